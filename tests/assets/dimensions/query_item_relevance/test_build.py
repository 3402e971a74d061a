import polars as pl
import pytest

from assets.dimensions.query_item_relevance.build import build_relevance_entries
from schemas.entries import entry_schema

FRACTIONS = {"train": 0.8, "validation": 0.1, "test": 0.1}
DOMAINS = ("food_delivery", "hotel")


@pytest.fixture(scope="module")
def entries(staged_warehouse):
    return pl.concat([build_relevance_entries(staged_warehouse, d, 7, FRACTIONS) for d in DOMAINS])


def test_conforms_to_the_entry_schema(entries):
    schema = entry_schema("query_item_relevance")
    assert entries.to_arrow().cast(schema).schema.names == schema.names
    assert entries["entry_id"].n_unique() == entries.height
    assert entries.select("domain", "query", pl.col("item").struct.field("item_id")).n_unique() == (
        entries.height
    )


def test_every_shown_pair_is_a_candidate_and_labels_in_range(entries, staged_warehouse):
    pairs = staged_warehouse.query(
        "SELECT DISTINCT domain, trim(query) AS query, item_id FROM stg_request_items"
    )
    assert entries.height == pairs.height
    assert set(entries["label"].unique()) <= {0, 1, 2, 3}
    expected = entries.select(pl.format("<answer>{}</answer>", "label").alias("a"))["a"]
    assert (entries["answer"] == expected).all()


def test_human_labels_win_with_full_confidence(entries):
    human = entries.filter(pl.col("label_source") == "human")
    # Two experts agree on grade 3 for one pair, one expert says 0 for another, per domain.
    assert human.height == 4
    assert sorted(human["label"].to_list()) == [0, 0, 3, 3]
    assert (human["label_confidence"] == 1.0).all()
    heur = entries.filter(pl.col("label_source") == "heuristic")
    assert heur.height > 0
    assert (heur["label_confidence"] < 1.0).all()
    assert set(entries["label_source"]) == {"human", "heuristic"}


def test_split_by_user_and_provenance(entries):
    users = entries.select(pl.col("provenance").struct.field("user_id_hash"), "split").unique()
    per_user = users.filter(pl.col("user_id_hash").is_not_null()).group_by("user_id_hash").len()
    assert per_user["len"].max() == 1
    prov = entries["provenance"].struct.unnest()
    assert (prov["source_row_ids"].list.len() >= 1).all()
    assert (prov["template_id"] == "query_item_relevance.v1").all()


def test_cap_keeps_annotated_pairs_and_spreads_categories(staged_warehouse):
    capped = build_relevance_entries(staged_warehouse, "hotel", 7, FRACTIONS, cap=5)
    assert capped.height == 5
    assert (capped["label_source"] == "human").sum() == 2
    assert capped["item"].struct.field("category").n_unique() >= 2


def test_deterministic(entries, staged_warehouse):
    again = pl.concat([build_relevance_entries(staged_warehouse, d, 7, FRACTIONS) for d in DOMAINS])
    assert again.equals(entries)
