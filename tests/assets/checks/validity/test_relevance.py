"""Relevance agreement with the generator's truth, on entries made from the shipped truth files."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from assets.checks.validity.relevance import relevance_agreement, truth_domains
from loggen.truth import read_truth

TRUTH = Path(__file__).resolve().parents[4] / "sample_logs" / "_truth"


def _entries(n: int, wrong: int) -> pl.DataFrame:
    """`n` relevance entries of food_delivery impressions; the first `wrong` labels are off."""
    imp = read_truth(TRUTH / "food_delivery", "impressions_truth.parquet").head(n)
    label = pl.when(pl.int_range(pl.len()) < wrong).then((pl.col("true_grade") + 1) % 4)
    return imp.select(
        pl.lit("food_delivery").alias("domain"),
        pl.lit("some query").alias("query"),
        pl.struct(pl.col("item_id"), pl.lit("一家店").alias("title")).alias("item"),
        pl.struct(pl.col("request_id")).alias("provenance"),
        label.otherwise(pl.col("true_grade")).cast(pl.Int8).alias("label"),
        pl.lit("heuristic").alias("label_source"),
        pl.lit("train").alias("split"),
    )


def test_agreement_kappa_and_shares():
    assert truth_domains(TRUTH) == ["food_delivery", "hotel", "movie_tickets"]
    result = relevance_agreement(_entries(400, 100), TRUTH)
    assert result.entries == result.with_truth == 400
    assert result.agreement == pytest.approx(0.75)
    assert 0 < result.kappa < result.agreement
    assert result.by_source["heuristic"]["agreement"] == pytest.approx(0.75)
    # an English query against a Chinese title
    assert result.by_language["cross_language"]["rows"] == 400
    assert sum(result.grade_shares.values()) == pytest.approx(1.0, abs=1e-3)
    perfect = relevance_agreement(_entries(400, 0), TRUTH)
    assert perfect.agreement == 1.0 and perfect.kappa == pytest.approx(1.0)
    assert perfect.grade_shares == perfect.truth_shares


def test_entries_without_truth_are_counted_not_graded():
    entries = pl.concat(
        [
            _entries(10, 0),
            _entries(5, 0).with_columns(pl.lit("books").alias("domain")),
        ]
    )
    result = relevance_agreement(entries, TRUTH)
    assert result.entries == 15 and result.with_truth == 10 and result.agreement == 1.0


def test_annotated_pairs_without_request_use_the_annotation_truth():
    ann = read_truth(TRUTH / "hotel", "annotations_truth.parquet").head(20)
    entries = ann.select(
        pl.lit("hotel").alias("domain"),
        "query",
        pl.struct(pl.col("item_id"), pl.lit("Hotel").alias("title")).alias("item"),
        pl.struct(pl.lit(None, dtype=pl.String).alias("request_id")).alias("provenance"),
        pl.col("true_label").alias("label"),
        pl.lit("human").alias("label_source"),
    )
    result = relevance_agreement(entries, TRUTH)
    assert result.with_truth == 20 and result.agreement == 1.0
