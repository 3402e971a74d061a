"""The ingest suites on raw tables built in code: contract types, required values, masking."""

from datetime import datetime

import pyarrow as pa
import pytest

from assets.checks.frames import suite_columns
from assets.checks.raw import validate_raw
from core.warehouse import Warehouse
from schemas.expectations import raw_contract_suite, raw_keys_suite
from schemas.logs import EVENTS, IMPRESSIONS, REQUESTS


def _requests(queries, ts=datetime(2026, 3, 1, 9)):
    schema = REQUESTS.warehouse_schema()
    n = len(queries)
    cols = {
        "domain": ["hotel"] * n,
        "request_id": [f"r{i}" for i in range(n)],
        "user_id_hash": ["u" * 20] * n,
        "ts": [ts] * n,
        "query": queries,
        "city": [None] * n,
        "lat": [None] * n,
        "lon": [None] * n,
        "scene": [None] * n,
        "channel": [None] * n,
        "extra": [[]] * n,
        "source_file": ["logs/hotel/requests.jsonl"] * n,
        "source_row": list(range(1, n + 1)),
    }
    return pa.table(cols, schema=schema)


def test_valid_raw_table_passes_both_suites(tmp_path):
    wh = Warehouse(tmp_path / "wh.duckdb")
    wh.write_partition("raw_requests", "hotel", _requests(["quiet room", "[PHONE] 大床房"]))
    assert validate_raw(wh, REQUESTS, "hotel", raw_keys_suite(REQUESTS)).success
    outcome = validate_raw(wh, REQUESTS, "hotel", raw_contract_suite(REQUESTS))
    assert outcome.success, [f.describe() for f in outcome.failed]


def test_unmasked_text_and_missing_values_fail_the_contract(tmp_path):
    wh = Warehouse(tmp_path / "wh.duckdb")
    requests = _requests(["call 13812345678", None, "ok"])
    hashes = requests.column("user_id_hash").to_pylist()
    hashes[2] = None  # a required value missing (the query is optional since issue 13)
    index = requests.schema.get_field_index("user_id_hash")
    requests = requests.set_column(index, "user_id_hash", pa.array(hashes, pa.string()))
    wh.write_partition("raw_requests", "hotel", requests)
    outcome = validate_raw(wh, REQUESTS, "hotel", raw_contract_suite(REQUESTS))
    failed = {(f.expectation, f.column): f for f in outcome.failed}
    pii = failed[("expect_column_values_to_not_match_regex", "query")]
    assert pii.unexpected_count == 1 and pii.examples[0].startswith("logs/hotel/requests.jsonl, 1:")
    assert "13812345678" not in pii.examples[0]
    assert failed[("expect_column_values_to_not_be_null", "user_id_hash")].unexpected_count == 1
    assert ("expect_column_values_to_not_be_null", "query") not in failed


def test_wrong_column_type_fails_the_contract(tmp_path):
    wh = Warehouse(tmp_path / "wh.duckdb")
    with wh.connect() as con:  # position stored as text: an ingest that skipped its casts
        con.execute(
            "CREATE TABLE raw_impressions AS SELECT 'hotel' AS domain, 'r1' AS request_id, "
            "'it1' AS item_id, '3' AS position, NULL::TIMESTAMP AS ts, "
            "MAP {}::MAP(VARCHAR, VARCHAR) AS extra, 'f.csv' AS source_file, 1::BIGINT AS source_row"
        )
    outcome = validate_raw(wh, IMPRESSIONS, "hotel", raw_contract_suite(IMPRESSIONS))
    bad = [f for f in outcome.failed if f.expectation == "expect_column_values_to_be_of_type"]
    assert [(f.column, f.observed) for f in bad] == [("position", "str")]


def test_absent_table_gives_no_outcome(tmp_path):
    wh = Warehouse(tmp_path / "wh.duckdb")
    with wh.connect() as con:
        con.execute("CREATE TABLE other AS SELECT 1 AS x")
    assert validate_raw(wh, REQUESTS, "hotel", raw_contract_suite(REQUESTS)) is None


def test_keys_suite_on_only_its_columns_finds_duplicates_and_missing_keys(tmp_path):
    wh = Warehouse(tmp_path / "wh.duckdb")
    rows = _requests(["a", "b", "c"]).to_pylist()
    rows[2]["request_id"] = rows[0]["request_id"]
    wh.write_partition(
        "raw_requests", "hotel", pa.Table.from_pylist(rows, REQUESTS.warehouse_schema())
    )
    suite = raw_keys_suite(REQUESTS)
    columns = [*suite_columns(suite), "source_file", "source_row"]
    outcome = validate_raw(wh, REQUESTS, "hotel", suite, columns)
    assert [(f.expectation, f.unexpected_count) for f in outcome.failed] == [
        ("expect_column_values_to_be_unique", 2)
    ]
    with wh.connect() as con:  # a table that lost its key column
        con.execute("ALTER TABLE raw_requests DROP COLUMN request_id")
    outcome = validate_raw(wh, REQUESTS, "hotel", suite, columns)
    assert "expect_column_to_exist" in {f.expectation for f in outcome.failed}


def _events(n: int) -> pa.Table:
    rows = [
        {
            "domain": "hotel",
            "request_id": f"r{i}",
            "user_id_hash": "u" * 20,
            "item_id": f"it{i % 7}",
            "ts": datetime(2026, 3, 1, 9),
            "event_type": ("click", "order")[i % 2],
            "amount": float(i % 50),
            "extra": [],
            "source_file": "logs/hotel/events.csv",
            "source_row": i + 1,
        }
        for i in range(n)
    ]
    return pa.Table.from_pylist(rows, schema=EVENTS.warehouse_schema())


def _key(outcome):
    return [
        (f.expectation, f.column, f.unexpected_count, f.element_count, f.observed, f.examples)
        for f in outcome.failed
    ]


@pytest.mark.parametrize("broken", [False, True])
def test_a_large_table_validated_after_a_prescreen_gives_a_full_runs_outcome(tmp_path, broken):
    rows = _events(400).to_pylist()
    if broken:
        rows[17]["event_type"] = "refund"  # not in the set
        rows[123]["amount"] = -3.5  # negative
        rows[250]["item_id"] = None  # required
        rows[333]["event_type"] = None
    wh = Warehouse(tmp_path / "wh.duckdb")
    wh.write_partition("raw_events", "hotel", pa.Table.from_pylist(rows, EVENTS.warehouse_schema()))
    suite = raw_contract_suite(EVENTS)
    full = validate_raw(wh, EVENTS, "hotel", suite)
    screened = validate_raw(wh, EVENTS, "hotel", suite, chunk_rows=50, sample_rows=20)
    assert set(screened.results) == {"prescreened"} and full.rows == screened.rows == 400
    assert full.success == screened.success == (not broken)
    assert _key(screened) == _key(full)
    if broken:
        failed = {(f.expectation, f.column): f.unexpected_count for f in screened.failed}
        assert failed[("expect_column_values_to_be_in_set", "event_type")] == 1
        assert failed[("expect_column_values_to_be_between", "amount")] == 1
        assert failed[("expect_column_values_to_not_be_null", "item_id")] == 1
