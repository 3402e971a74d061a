"""stg_request_items is stored in no particular order (assets/staging/sessions.py says why):
the entries its readers build must be the same whatever order its rows are stored in."""

import polars as pl

from assets.dimensions.behavior_prediction.build import write_behavior_entries
from assets.dimensions.item_ranking.build import write_ranking_entries
from assets.dimensions.query_item_relevance.build import build_relevance_entries
from schemas.staging import REQUEST_ITEMS_SCHEMA, STG_REQUEST_ITEMS

FRACTIONS = {"train": 0.8, "validation": 0.1, "test": 0.1}


def _entries_of_every_reader(wh, domains) -> dict[str, pl.DataFrame]:
    relevance = []
    for domain in domains:
        write_behavior_entries(wh, domain, 7, FRACTIONS)
        write_ranking_entries(wh, domain, 7, FRACTIONS)
        relevance.append(build_relevance_entries(wh, domain, 7, FRACTIONS)[0])
    return {
        "behavior_prediction": wh.query(
            "SELECT * FROM entries_behavior_prediction ORDER BY entry_id"
        ),
        "item_ranking": wh.query("SELECT * FROM entries_item_ranking ORDER BY entry_id"),
        "query_item_relevance": pl.concat(relevance).sort("entry_id"),
    }


def _stored_keys(wh, domain) -> list[tuple]:
    return wh.query(
        f"SELECT request_id, item_id FROM {STG_REQUEST_ITEMS} WHERE domain = $domain",
        {"domain": domain},
    ).rows()


def test_readers_build_the_same_entries_from_request_items_stored_in_another_order(
    raw_fixture, tmp_path
):
    wh = raw_fixture.build_staged_warehouse(tmp_path / "wh.duckdb")
    domains = list(raw_fixture.DOMAINS)
    before = _entries_of_every_reader(wh, domains)
    assert all(frame.height > 0 for frame in before.values())

    for domain in domains:
        stored = _stored_keys(wh, domain)
        rows = wh.query(
            f"SELECT * FROM {STG_REQUEST_ITEMS} WHERE domain = $domain "
            "ORDER BY hash(request_id || '/' || item_id)",
            {"domain": domain},
        )
        wh.write_partition(STG_REQUEST_ITEMS, domain, rows, schema=REQUEST_ITEMS_SCHEMA)
        assert _stored_keys(wh, domain) != stored  # the test reorders what it says it does
        assert sorted(_stored_keys(wh, domain)) == sorted(stored)

    after = _entries_of_every_reader(wh, domains)
    for dimension, frame in before.items():
        assert after[dimension].equals(frame), dimension
