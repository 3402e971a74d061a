"""The generator's impression and intent truth: complete, consistent with the logs, and enough to
grade any (request, item) pair by the simulator's own rule."""

from __future__ import annotations

import polars as pl
import pyarrow.parquet as pq
import pytest

from loggen.catalog import get_domain
from loggen.generate import TRUTH_DIR
from loggen.truth import (
    CATEGORY_GRADES_SCHEMA,
    IMPRESSIONS_TRUTH_SCHEMA,
    ITEMS_TRUTH_SCHEMA,
    REASONS,
    REQUESTS_TRUTH_SCHEMA,
    grade_pairs,
    read_truth,
)
from schemas.domain import load_domain_settings

DOMAINS = ("food_delivery", "hotel", "movie_tickets", "grocery")  # as in conftest.small_config


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_impression_has_its_truth(drop, read_table, domain):
    truth_dir = drop / TRUTH_DIR / domain
    for name, schema in (
        ("impressions_truth.parquet", IMPRESSIONS_TRUTH_SCHEMA),
        ("requests_truth.parquet", REQUESTS_TRUTH_SCHEMA),
        ("items_truth.parquet", ITEMS_TRUTH_SCHEMA),
        ("category_grades.parquet", CATEGORY_GRADES_SCHEMA),
    ):
        assert pq.read_schema(truth_dir / name).remove_metadata() == schema, name
    impressions = read_table(drop / domain, "impressions")
    truth = read_truth(truth_dir, "impressions_truth.parquet")
    keys = ["request_id", "item_id", "position"]
    assert truth.height == impressions.height
    assert (
        truth.select(keys)
        .sort(keys)
        .equals(impressions.select(pl.col(k).cast(truth.schema[k]) for k in keys).sort(keys))
    )
    assert set(truth["reason"]) <= set(REASONS)
    expected = {"exact": 3, "over_budget": 2, "missing_feature": 2, "substitute": 2}
    for reason, grade in expected.items():
        assert (truth.filter(pl.col("reason") == reason)["true_grade"] == grade).all()
    requests = read_table(drop / domain, "requests")
    intents = read_truth(truth_dir, "requests_truth.parquet")
    assert sorted(intents["request_id"]) == sorted(requests["request_id"])
    keys_of_domain = set(get_domain(domain).category_keys)
    assert set(intents["intent_category"]) <= keys_of_domain
    assert set(read_truth(truth_dir, "items_truth.parquet")["category"]) <= keys_of_domain


@pytest.mark.parametrize("domain", DOMAINS)
def test_grade_pairs_reproduces_every_impression_grade(drop, domain):
    truth_dir = drop / TRUTH_DIR / domain
    truth = read_truth(truth_dir, "impressions_truth.parquet")
    graded = grade_pairs(truth_dir, truth.select("request_id", "item_id"))
    assert graded["true_grade"].null_count() == 0
    assert graded["true_grade"].equals(truth["true_grade"])


def test_grade_pairs_grades_items_never_shown(drop):
    """A pair no impression shows still gets the simulator's grade; unknown ids get none."""
    truth_dir = drop / TRUTH_DIR / "food_delivery"
    intents = read_truth(truth_dir, "requests_truth.parquet")
    items = read_truth(truth_dir, "items_truth.parquet")
    grades = read_truth(truth_dir, "category_grades.parquet")
    plain = intents.filter(pl.col("price_cap").is_null() & pl.col("required_feature").is_null())
    request = plain.row(0, named=True)
    pairs = pl.DataFrame(
        {
            "request_id": [request["request_id"]] * items.height + ["nope"],
            "item_id": [*items["item_id"], items["item_id"][0]],
        }
    )
    graded = grade_pairs(truth_dir, pairs)
    expected = items.join(
        grades.filter(pl.col("query_category") == request["intent_category"]),
        left_on="category",
        right_on="item_category",
    )
    assert (
        graded.head(items.height)
        .select("item_id", "true_grade")
        .sort("item_id")
        .equals(expected.select("item_id", pl.col("grade").alias("true_grade")).sort("item_id"))
    )
    assert graded["true_grade"][-1] is None
    # Every grade occurs among the catalog items of a food request (a complement exists there).
    assert set(graded["true_grade"].drop_nulls()) == {0, 1, 2, 3}


def test_a_broken_modifier_makes_an_exact_item_a_substitute(drop):
    truth_dir = drop / TRUTH_DIR / "food_delivery"
    intents = read_truth(truth_dir, "requests_truth.parquet")
    items = read_truth(truth_dir, "items_truth.parquet")
    capped = intents.filter(pl.col("price_cap").is_not_null()).row(0, named=True)
    same = items.filter(pl.col("category") == capped["intent_category"])
    pairs = pl.DataFrame(
        {"request_id": [capped["request_id"]] * same.height, "item_id": same["item_id"]}
    )
    graded = grade_pairs(truth_dir, pairs).join(same, on="item_id")
    over = graded.filter(pl.col("price") > capped["price_cap"])
    within = graded.filter(pl.col("price") <= capped["price_cap"])
    assert over.height and (over["true_grade"] == 2).all()
    if capped["required_feature"] is None:
        assert within.height and (within["true_grade"] == 3).all()


def test_each_domain_folder_names_its_time_zone(drop):
    for domain in DOMAINS:
        assert load_domain_settings(drop, domain).time_zone == "Asia/Shanghai"
