import polars as pl
import pytest

from assets.dimensions.common.entries import finalize_entries
from assets.dimensions.common.provenance import provenance_params
from assets.dimensions.common.splits import domain_split
from assets.dimensions.common.wording import domain_template
from assets.dimensions.item_ranking.build import DIMENSION, ranking_rows_sql
from assets.ingest.domain_settings import read_domain_settings
from assets.staging.tables import raw_source
from core.warehouse import Warehouse
from schemas.entries import entry_schema

FRACTIONS = {"train": 0.8, "validation": 0.1, "test": 0.1}


def build_ranking_entries(
    wh: Warehouse, domain: str, seed: int, fractions: dict[str, float]
) -> pl.DataFrame:
    """The reference: the domain's item-ranking entries in entry schema, split by the release's policy, as a frame (rendered
    in polars; the reference the set-based writer is tested against)."""
    template = domain_template(wh, DIMENSION, domain)
    params = {"domain": domain, **provenance_params(wh, domain, DIMENSION, template),
              "time_zone": read_domain_settings(wh, domain).time_zone}  # fmt: skip
    rows = wh.query(ranking_rows_sql(raw_source(wh, "users"), seed), params)
    entries, _ = finalize_entries(
        rows, DIMENSION, template, domain_split(wh, domain, seed, fractions)
    )
    return entries


@pytest.fixture(scope="module")
def entries(staged_warehouse):
    return pl.concat(
        [
            build_ranking_entries(staged_warehouse, d, 7, FRACTIONS)
            for d in ("food_delivery", "hotel")
        ]
    )


def test_conforms_to_the_entry_schema(entries):
    schema = entry_schema("item_ranking")
    assert entries.to_arrow().cast(schema).schema.names == schema.names
    assert entries["entry_id"].n_unique() == entries.height
    assert (entries["label_source"] == "log").all()


def test_only_engaged_requests_with_two_or_more_candidates(entries, staged_warehouse):
    ri = staged_warehouse.query("SELECT * FROM stg_request_items")
    eligible = (
        ri.group_by("domain", "request_id")
        .agg(pl.len().alias("n"), pl.col("engagement").max().alias("top"))
        .filter((pl.col("n") >= 2) & (pl.col("top") >= 1))
    )
    from assets.dimensions.item_ranking.build import ranking_splits_sql

    held_out = sum(
        staged_warehouse.query(
            ranking_splits_sql(domain_split(staged_warehouse, d, 7, FRACTIONS)), {"domain": d}
        )["split"].null_count()
        for d in ("food_delivery", "hotel")
    )
    # Every eligible request is an entry unless the split policy holds it out.
    assert entries.height + held_out == eligible.height and entries.height > 0
    assert set(entries["provenance"].struct.field("request_id")) <= set(eligible["request_id"])
    assert (entries["candidates"].list.len() >= 2).all()


def test_gold_ranking_sorts_by_level_and_leaves_ties_in_listing_order(entries, staged_warehouse):
    """The gold is graded per candidate (`candidate_labels`); `gold_ranking` is the candidates
    sorted by level, and within a tie in the listing order (a seeded shuffle): no tie is broken
    by the display position, which would invent a preference between, e.g., two bought items."""
    ri = staged_warehouse.query(
        "SELECT request_id, item_id, position, engagement FROM stg_request_items"
    )
    position = {(r, i): p for r, i, p, _ in ri.iter_rows()}
    by_position_differs = 0
    for row in entries.select(
        pl.col("provenance").struct.field("request_id"),
        "gold_ranking",
        "candidates",
        "candidate_labels",
        "answer",
    ).iter_rows(named=True):
        listed = [c["item_id"] for c in row["candidates"]]
        level = dict(zip(listed, row["candidate_labels"], strict=True))
        expected = sorted(listed, key=lambda i: (-level[i], listed.index(i)))
        assert row["gold_ranking"] == expected
        assert row["answer"] == "<answer>" + ", ".join(row["gold_ranking"]) + "</answer>"
        by_position = sorted(listed, key=lambda i: (-level[i], position[(row["request_id"], i)], i))
        by_position_differs += by_position != expected
    # Lists with ties exist, and their gold does not follow the display position.
    assert by_position_differs > 0


def test_candidate_labels_give_each_candidates_engagement_in_listing_order(
    entries, staged_warehouse
):
    ri = staged_warehouse.query("SELECT request_id, item_id, engagement FROM stg_request_items")
    level = {(r, i): e for r, i, e in ri.iter_rows()}
    for row in entries.select(
        pl.col("provenance").struct.field("request_id"), "candidates", "candidate_labels"
    ).iter_rows(named=True):
        expected = [level[(row["request_id"], c["item_id"])] for c in row["candidates"]]
        assert row["candidate_labels"] == expected
    assert set(entries["candidate_labels"].explode().unique()) == {0, 1, 2}


def test_every_candidate_is_in_the_prompt_and_history_is_clean(entries):
    row = entries.row(0, named=True)
    for c in row["candidates"]:
        assert f"[{c['item_id']}]" in row["prompt"]
    assert "listed in a random order" in row["prompt"]
    assert "display positions are withheld" in row["prompt"]
    assert "local time (UTC)" in row["prompt"]
    flat = (
        entries.select(pl.col("context").struct.field("ts").alias("req_ts"), "history")
        .explode("history")
        .filter(pl.col("history").is_not_null())
    )
    assert (flat["history"].struct.field("ts") < flat["req_ts"]).all()


def test_deterministic(entries, staged_warehouse):
    again = pl.concat(
        [
            build_ranking_entries(staged_warehouse, d, 7, FRACTIONS)
            for d in ("food_delivery", "hotel")
        ]
    )
    assert again.equals(entries)


@pytest.mark.parametrize("bucket_rows", [1_000_000, 7])
def test_set_based_writer_equals_the_polars_frame(entries, staged_warehouse, bucket_rows):
    from assets.dimensions.item_ranking.build import write_ranking_entries

    meta = write_ranking_entries(staged_warehouse, "food_delivery", 7, FRACTIONS, bucket_rows)
    stored = staged_warehouse.query(
        "SELECT * FROM entries_item_ranking WHERE domain = 'food_delivery' ORDER BY entry_id"
    )
    expected = entries.filter(pl.col("domain") == "food_delivery").sort("entry_id")
    assert meta["rows"] == expected.height
    assert (meta["buckets"] > 1) == (bucket_rows == 7)
    # Requests the split policy holds out are left out before their bundles are built (the
    # writer's `kept_only`); the reference builds every row and drops them after.
    assert meta["held_out_by_split_policy"] > 0
    assert stored.equals(expected)
