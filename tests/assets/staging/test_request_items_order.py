"""stg_request_items and stg_user_histories are stored in no particular order
(assets/staging/sessions.py and histories.py say why): the entries their readers build must be
the same whatever order their rows are stored in."""

import polars as pl
import pytest

from assets.dimensions.behavior_prediction.build import write_behavior_entries
from assets.dimensions.item_ranking.build import write_ranking_entries
from assets.dimensions.query_item_relevance.build import build_relevance_entries
from schemas.staging import (
    REQUEST_ITEMS_SCHEMA,
    STG_REQUEST_ITEMS,
    STG_USER_HISTORIES,
    USER_HISTORIES_SCHEMA,
)

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


# table -> (its schema, its key columns)
STAGED = {
    STG_REQUEST_ITEMS: (REQUEST_ITEMS_SCHEMA, "request_id || '/' || item_id"),
    STG_USER_HISTORIES: (USER_HISTORIES_SCHEMA, "request_id"),
}


def _stored_keys(wh, table, domain) -> list[tuple]:
    key = STAGED[table][1]
    return wh.query(f"SELECT {key} FROM {table} WHERE domain = $domain", {"domain": domain}).rows()


@pytest.mark.parametrize("table", list(STAGED))
def test_readers_build_the_same_entries_from_staged_rows_stored_in_another_order(
    raw_fixture, tmp_path, table
):
    wh = raw_fixture.build_staged_warehouse(tmp_path / "wh.duckdb")
    domains = list(raw_fixture.DOMAINS)
    before = _entries_of_every_reader(wh, domains)
    assert all(frame.height > 0 for frame in before.values())

    schema, key = STAGED[table]
    for domain in domains:
        stored = _stored_keys(wh, table, domain)
        rows = wh.query(
            f"SELECT * FROM {table} WHERE domain = $domain ORDER BY hash({key})",
            {"domain": domain},
        )
        wh.write_partition(table, domain, rows, schema=schema)
        assert _stored_keys(wh, table, domain) != stored  # reordered as it says
        assert sorted(_stored_keys(wh, table, domain)) == sorted(stored)

    after = _entries_of_every_reader(wh, domains)
    for dimension, frame in before.items():
        assert after[dimension].equals(frame), dimension
