"""Query-item relevance entries: sampled (query, item) pairs graded 0-3 on the ESCI scale.

An expert label wins where one exists (label_source `human`, confidence 1.0); every other pair is
graded by the heuristic labeler from text, category and behaviour, including the domain's
query-category affinity learnt from the click log (label_source `heuristic`, confidence < 1),
which the LLM-judge layer may revisit.
"""

from __future__ import annotations

import polars as pl

from assets.dimensions.common.entries import finalize_entries
from assets.dimensions.common.provenance import provenance_params
from assets.dimensions.common.text import item_text_sql
from assets.dimensions.query_item_relevance.affinity import (
    attach_category_lift,
    token_category_lift_sql,
)
from assets.dimensions.query_item_relevance.labeler import heuristic_labels
from assets.dimensions.query_item_relevance.sampling import candidate_pairs_sql
from assets.staging.tables import raw_source
from core.templates import load_template
from core.warehouse import Warehouse

DIMENSION = "query_item_relevance"


def label_pairs(pairs: pl.DataFrame) -> pl.DataFrame:
    """Pairs + label (int8), label_source and label_confidence: human where annotated."""
    scored = heuristic_labels(pairs)
    human = pl.col("human_label").is_not_null()
    return scored.with_columns(
        pl.when(human)
        .then(pl.col("human_label"))
        .otherwise(pl.col("label"))
        .cast(pl.Int8)
        .alias("label"),
        pl.when(human).then(pl.lit("human")).otherwise(pl.lit("heuristic")).alias("label_source"),
        pl.when(human)
        .then(pl.lit(1.0))
        .otherwise(pl.col("label_confidence"))
        .alias("label_confidence"),
    )


def build_relevance_entries(
    wh: Warehouse, domain: str, seed: int, fractions: dict[str, float], cap: int | None = None
) -> pl.DataFrame:
    """The domain's relevance entries (at most `cap` pairs; None = all), split by user."""
    template = load_template(DIMENSION)
    prov = provenance_params(wh, domain, DIMENSION, template)
    pairs = wh.query(
        f"SELECT *, {item_text_sql('item')} AS item_text FROM ("
        f"{candidate_pairs_sql(raw_source(wh, 'annotations'), seed, cap)}) s",
        {"domain": domain},
    )
    lifts = wh.query(token_category_lift_sql(), {"domain": domain})
    labelled = label_pairs(attach_category_lift(pairs, lifts))
    frame = labelled.with_columns(
        pl.lit(DIMENSION).alias("dimension"),
        pl.struct(
            pl.col("user_id_hash"),
            pl.col("request_id"),
            pl.col("source_row_ids"),
            pl.lit(prov["log_fingerprint"], dtype=pl.String).alias("log_fingerprint"),
            pl.lit(prov["builder_version"]).alias("builder_version"),
            pl.lit(prov["template_id"]).alias("template_id"),
            pl.lit(prov["template_hash"]).alias("template_hash"),
            pl.lit(None, dtype=pl.String).alias("judge_model"),
            pl.lit(None, dtype=pl.String).alias("operator"),
        ).alias("provenance"),
    )
    return finalize_entries(frame, DIMENSION, template, seed, fractions)
