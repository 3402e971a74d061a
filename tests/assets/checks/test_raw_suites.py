"""The ingest suites on raw tables built in code: contract types, required values, masking."""

from datetime import datetime

import pyarrow as pa

from assets.checks.frames import raw_frame, suite_columns
from assets.checks.validation import validate_frame
from core.warehouse import Warehouse
from schemas.expectations import raw_contract_suite, raw_keys_suite
from schemas.logs import IMPRESSIONS, REQUESTS


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
    frame = raw_frame(wh, REQUESTS, "hotel")
    assert validate_frame(frame, raw_keys_suite(REQUESTS)).success
    outcome = validate_frame(frame, raw_contract_suite(REQUESTS))
    assert outcome.success, [f.describe() for f in outcome.failed]


def test_unmasked_text_and_missing_values_fail_the_contract(tmp_path):
    wh = Warehouse(tmp_path / "wh.duckdb")
    wh.write_partition("raw_requests", "hotel", _requests(["call 13812345678", None, "ok"]))
    outcome = validate_frame(
        raw_frame(wh, REQUESTS, "hotel"),
        raw_contract_suite(REQUESTS),
        ["source_file", "source_row"],
    )
    failed = {(f.expectation, f.column): f for f in outcome.failed}
    pii = failed[("expect_column_values_to_not_match_regex", "query")]
    assert pii.unexpected_count == 1 and pii.examples[0].startswith("logs/hotel/requests.jsonl, 1:")
    assert "13812345678" not in pii.examples[0]
    assert failed[("expect_column_values_to_not_be_null", "query")].unexpected_count == 1


def test_wrong_column_type_fails_the_contract(tmp_path):
    wh = Warehouse(tmp_path / "wh.duckdb")
    with wh.connect() as con:  # position stored as text: an ingest that skipped its casts
        con.execute(
            "CREATE TABLE raw_impressions AS SELECT 'hotel' AS domain, 'r1' AS request_id, "
            "'it1' AS item_id, '3' AS position, NULL::TIMESTAMP AS ts, "
            "MAP {}::MAP(VARCHAR, VARCHAR) AS extra, 'f.csv' AS source_file, 1::BIGINT AS source_row"
        )
    outcome = validate_frame(raw_frame(wh, IMPRESSIONS, "hotel"), raw_contract_suite(IMPRESSIONS))
    bad = [f for f in outcome.failed if f.expectation == "expect_column_values_to_be_of_type"]
    assert [(f.column, f.observed) for f in bad] == [("position", "str")]


def test_absent_table_gives_no_frame(tmp_path):
    wh = Warehouse(tmp_path / "wh.duckdb")
    with wh.connect() as con:
        con.execute("CREATE TABLE other AS SELECT 1 AS x")
    assert raw_frame(wh, REQUESTS, "hotel") is None


def test_keys_suite_on_only_its_columns_finds_duplicates_and_missing_keys(tmp_path):
    wh = Warehouse(tmp_path / "wh.duckdb")
    rows = _requests(["a", "b", "c"]).to_pylist()
    rows[2]["request_id"] = rows[0]["request_id"]
    wh.write_partition(
        "raw_requests", "hotel", pa.Table.from_pylist(rows, REQUESTS.warehouse_schema())
    )
    suite = raw_keys_suite(REQUESTS)
    columns = [*suite_columns(suite), "source_file", "source_row"]
    frame = raw_frame(wh, REQUESTS, "hotel", columns)
    assert set(frame.columns) == {"request_id", "source_file", "source_row"}
    outcome = validate_frame(frame, suite, ["source_file", "source_row"])
    assert [(f.expectation, f.unexpected_count) for f in outcome.failed] == [
        ("expect_column_values_to_be_unique", 2)
    ]
    with wh.connect() as con:  # a table that lost its key column
        con.execute("ALTER TABLE raw_requests DROP COLUMN request_id")
    outcome = validate_frame(raw_frame(wh, REQUESTS, "hotel", columns), suite)
    assert "expect_column_to_exist" in {f.expectation for f in outcome.failed}
