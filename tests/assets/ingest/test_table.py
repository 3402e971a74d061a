"""ingest_table on the broken drop of conftest: exact quarantine, reconciliation, idempotency,
anonymization, extra columns."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

import pytest

from assets.ingest.discover import IngestError
from assets.ingest.table import ingest_table
from core.ids import keyed_hash
from core.warehouse import Warehouse
from schemas.logs import CONTRACT_TABLES

DOMAIN = "food"
HASH_KEY = "test-secret-key"


def ingest_all(warehouse: Warehouse, root: Path) -> dict:
    return {
        name: ingest_table(warehouse, root, DOMAIN, table, HASH_KEY)
        for name, table in CONTRACT_TABLES.items()
    }


@pytest.fixture(scope="module")
def ingested(module_drop, tmp_path_factory):
    warehouse = Warehouse(tmp_path_factory.mktemp("wh") / "wh.duckdb")
    return warehouse, ingest_all(warehouse, module_drop)


def test_counts_reconcile(ingested, expected):
    warehouse, results = ingested
    for name, (read, accepted, quarantined) in expected.counts.items():
        r = results[name]
        assert (r.read, r.accepted, r.quarantined) == (read, accepted, quarantined), name
        assert warehouse.count(f"raw_{name}", DOMAIN) == accepted
    assert results["agent_turns"].absent and not results["items"].absent
    assert results["requests"].reasons == {"bad type": 1, "truncated gzip stream": 1}


def test_quarantine_is_exact(ingested, expected):
    warehouse, _ = ingested
    rows = warehouse.query(
        "SELECT table_name, source_file, source_row, reason FROM quarantine ORDER BY ALL"
    ).rows()
    assert rows == sorted(expected.quarantine)


def test_values_cast_and_traced(ingested):
    warehouse, _ = ingested
    req = warehouse.query(
        "SELECT request_id, ts, lat, source_file, source_row FROM raw_requests ORDER BY request_id"
    ).rows()
    assert req == [
        ("R1", datetime(2026, 5, 1, 10, 0), 31.2, "food/requests.jsonl.gz", 1),
        ("R2", datetime(2026, 5, 1, 10, 0), None, "food/requests.jsonl.gz", 2),  # epoch s
        ("R3", datetime(2026, 5, 1, 10, 0), None, "food/requests.jsonl.gz", 3),  # epoch ms
        ("R6", datetime(2026, 5, 1, 4, 0), None, "food/requests.jsonl.gz", 5),  # +08:00
    ]
    items = warehouse.query(
        "SELECT item_id, price, tags, rating, source_row FROM raw_items ORDER BY item_id"
    ).rows()
    assert items == [
        ("I1", 12.5, ["spicy", "hot"], None, 1),
        ("I2", 8.0, None, None, 2),
        ("I5", 3.5, None, 4.5, 1),
    ]
    impressions = warehouse.query("SELECT position, ts FROM raw_impressions ORDER BY position")
    assert impressions["position"].to_list() == [1, 2]


def test_extra_columns_kept(ingested):
    warehouse, _ = ingested
    extra = dict(warehouse.query("SELECT item_id, extra FROM raw_items").rows())
    assert extra["I1"] == {"brand": "Acme"}
    assert extra["I5"] == {"color": "green"}
    assert not extra["I2"]  # empty `brand` field in CSV is NULL: nothing to keep
    events = warehouse.query("SELECT extra FROM raw_events ORDER BY source_row")["extra"].to_list()
    assert events[0] == {"phone": "[PHONE]"}
    device = warehouse.query("SELECT extra FROM raw_requests WHERE request_id = 'R1'")["extra"][0]
    assert device == {"device": "ios"}


def test_user_ids_hashed_and_text_masked(ingested):
    warehouse, _ = ingested
    hashes = warehouse.query("SELECT user_id_hash FROM raw_requests ORDER BY request_id")
    assert hashes["user_id_hash"].to_list()[0] == keyed_hash("USR-AAA-001", HASH_KEY)
    queries = warehouse.query("SELECT query FROM raw_requests ORDER BY request_id")["query"]
    assert queries.to_list() == ["noodles, mail [EMAIL]", "tea", "rice", "id [ID]"]
    title = warehouse.query("SELECT title FROM raw_items WHERE item_id = 'I2'")["title"][0]
    assert title == "Dumplings call [PHONE]"


def test_no_personal_data_anywhere(ingested, expected):
    """Scan every text column (and map/list as text) of every table for the raw values."""
    warehouse, _ = ingested
    tables = warehouse.query("SELECT table_name FROM information_schema.tables")["table_name"]
    found = []
    for table in tables:
        text = warehouse.query(f'SELECT CAST(COLUMNS(*) AS VARCHAR) FROM "{table}"')
        for column in text.columns:
            for value in text[column].drop_nulls().to_list():
                found += [
                    (table, column, v)
                    for v in expected.raw_user_ids + expected.raw_pii
                    if v in value
                ]
    assert found == []
    # The truncated line's user id is hashed in its raw text, not dropped.
    raw = warehouse.query("SELECT raw FROM quarantine WHERE reason LIKE 'truncated%'")["raw"][0]
    assert keyed_hash("USR-AAA-005", HASH_KEY) in raw
    csv_raw = warehouse.query("SELECT raw FROM quarantine WHERE reason LIKE '%too many%'")["raw"]
    assert keyed_hash("USR-AAA-009", HASH_KEY) in csv_raw[0]


def test_reingest_is_idempotent(ingested, module_drop):
    warehouse, first = ingested
    before = {
        t: warehouse.count(t) for t in ("raw_items", "raw_events", "quarantine", "ingest_files")
    }
    second = ingest_all(warehouse, module_drop)
    after = {t: warehouse.count(t) for t in before}
    assert after == before
    assert {k: (v.read, v.accepted, v.quarantined) for k, v in second.items()} == {
        k: (v.read, v.accepted, v.quarantined) for k, v in first.items()
    }


def test_ingest_files_manifest(ingested, module_drop):
    warehouse, _ = ingested
    files = warehouse.query(
        "SELECT table_name, path, sha256, rows_read FROM ingest_files ORDER BY path"
    ).rows()
    assert [(t, p, n) for t, p, _, n in files] == [
        ("events", "food/events.csv.gz", 6),
        ("impressions", "food/impressions.parquet", 7),
        ("items", "food/items-2.jsonl", 4),
        ("items", "food/items.csv", 6),
        ("requests", "food/requests.jsonl.gz", 6),
        ("users", "food/users.csv", 2),
    ]

    expected = hashlib.sha256((module_drop / DOMAIN / "items.csv").read_bytes()).hexdigest()
    assert dict((p, s) for _, p, s, _ in files)["food/items.csv"] == expected


def test_missing_required_table_names_folder(drop, tmp_path):
    (drop / DOMAIN / "events.csv.gz").unlink()
    warehouse = Warehouse(tmp_path / "wh.duckdb")
    with pytest.raises(IngestError, match=r"logs/food: no file for required table 'events'"):
        ingest_table(warehouse, drop, DOMAIN, CONTRACT_TABLES["events"], HASH_KEY)


def test_missing_required_column_names_file(drop, tmp_path):
    (drop / DOMAIN / "items.csv").write_text("item_id,title,price\nI1,x,1\n")
    with pytest.raises(
        IngestError, match=r"food/items.csv lacks the required column\(s\) category"
    ):
        ingest_table(
            Warehouse(tmp_path / "w.duckdb"), drop, DOMAIN, CONTRACT_TABLES["items"], HASH_KEY
        )


def test_references_need_ingested_parents(drop, tmp_path):
    with pytest.raises(IngestError, match="ingest/requests has not been materialized"):
        ingest_table(
            Warehouse(tmp_path / "w.duckdb"), drop, DOMAIN, CONTRACT_TABLES["agent_turns"], HASH_KEY
        )
