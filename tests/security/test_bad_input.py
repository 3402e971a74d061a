"""Attack: bad input that used to be accepted or dropped without a word (issue 17), and new
kinds of hostile input (NUL bytes, CR in CSV fields, huge lines, lookalike names)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assets.ingest.discover import IngestError, ignored_files
from assets.ingest.table import ingest_table
from core.warehouse import Warehouse
from schemas.logs import CONTRACT_TABLES

from .conftest import DOMAIN, KEY, make_domain, requests_lines, write_jsonl


def _ingest(logs: Path, wh: Warehouse, *tables: str):
    return {t: ingest_table(wh, logs, DOMAIN, CONTRACT_TABLES[t], KEY) for t in tables}


def _reasons(wh: Warehouse, table: str) -> dict[int, str]:
    rows = wh.query(
        "SELECT source_row, reason FROM quarantine WHERE table_name = $t ORDER BY source_row",
        {"t": table},
    ).rows()
    return dict(rows)


def test_implausible_timestamps_and_bad_offsets_are_quarantined_with_a_reason(logs, tmp_path):
    rows = requests_lines()
    stamps = [
        "2099-01-01T00:00:00",
        "1969-12-31T23:59:59",
        "0001-01-01",
        "-86400",
        "2026-05-01T10:00:00+25:00",
        "2026-05-01T10:00:00+08:75",
        "2026-05-01T10:00:00+08:00",  # fine
    ]
    rows = [
        {"request_id": f"X{i}", "user_id": "USR-7", "ts": ts, "query": "q"}
        for i, ts in enumerate(stamps)
    ] + rows
    write_jsonl(logs / DOMAIN / "requests.jsonl", rows)
    wh = Warehouse(tmp_path / "wh.duckdb")
    result = _ingest(logs, wh, "items", "requests")["requests"]
    reasons = _reasons(wh, "requests")
    assert result.read == result.accepted + result.quarantined == len(rows)
    assert result.quarantined == 6
    for row in (1, 2, 3, 4):
        assert (
            reasons[row].startswith("implausible timestamp: ts=")
            and "is outside 2000-01-01" in reasons[row]
        )
    assert reasons[5] == "bad type: ts='2026-05-01T10:00:00+25:00' is not a timestamp"
    assert reasons[6].startswith("bad type: ts=")
    assert result.reasons == {"bad type": 2, "implausible timestamp": 4}


def test_non_integer_values_in_integer_columns_are_quarantined_not_rounded(logs, tmp_path):
    (logs / DOMAIN / "items.csv").write_text(
        "item_id,title,category,price,review_count\n"
        "I1,a,food,1,3.7\nI2,b,food,1,3.0\nI3,c,food,1,1e3\nI4,d,food,1, 12 \n"
    )
    wh = Warehouse(tmp_path / "wh.duckdb")
    _ingest(logs, wh, "items")
    assert _reasons(wh, "items") == {
        1: "bad type: review_count='3.7' is not an integer",
        3: "bad type: review_count='1e3' is not an integer",
    }
    counts = dict(wh.query("SELECT item_id, review_count FROM raw_items").rows())
    assert counts == {"I2": 3, "I4": 12}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("items.csv", "", "food/items.csv is empty: the required table 'items' needs records"),
        (
            "items.csv",
            "item_id,title,category,price\n",
            "food/items.csv holds no records (a header only): the required table 'items'",
        ),
        ("items.jsonl", "", "food/items.jsonl is empty"),
    ],
)
def test_empty_or_header_only_required_files_fail_naming_the_file(
    logs, tmp_path, name, content, message
):
    # `items` is the one required table (issue 13): its file must hold records.
    (logs / DOMAIN / "items.csv").unlink()
    (logs / DOMAIN / name).write_text(content)
    with pytest.raises(IngestError) as err:
        _ingest(logs, Warehouse(tmp_path / "wh.duckdb"), "items")
    assert message in str(err.value)
    assert len(str(err.value).splitlines()) == 1


def test_a_json_lines_file_without_a_required_key_fails_naming_the_file(logs, tmp_path):
    (logs / DOMAIN / "events.csv").unlink()
    (logs / DOMAIN / "events.jsonl").write_text(
        '{"request_id":"R1","user_id":"USR-7","item_id":"I1","ts":"2026-05-01"}\n'
    )
    wh = Warehouse(tmp_path / "wh.duckdb")
    _ingest(logs, wh, "items", "requests")
    with pytest.raises(IngestError) as err:
        _ingest(logs, wh, "events")
    assert "food/events.jsonl lacks the required no line of the file has the key(s) event_type" in (
        str(err.value)
    )
    assert len(str(err.value).splitlines()) == 1


def test_every_file_of_a_domain_folder_is_read_or_named_as_ignored(logs, tmp_path):
    folder = logs / DOMAIN
    for name in ("events.tsv", "items.parquet.gz", "Events-2.jsonl", "notes.xml", ".DS_Store"):
        (folder / name).write_text("x")
    (folder / "archive").mkdir()
    ignored = ignored_files(logs, DOMAIN, list(CONTRACT_TABLES))
    assert set(ignored) == {
        "events.tsv",
        "items.parquet.gz",
        "Events-2.jsonl",
        "notes.xml",
        ".DS_Store",
        "archive",
    }
    assert ignored["events.tsv"].startswith("unsupported file type")
    wh = Warehouse(tmp_path / "wh.duckdb")
    result = _ingest(logs, wh, "items", "requests", "impressions", "events")
    assert set(result["events"].ignored) == {"events.tsv", "Events-2.jsonl"}
    assert set(result["items"].ignored) == {"items.parquet.gz"}


def test_an_oversized_field_is_quarantined_with_its_real_reason(logs, tmp_path):
    big = "x" * 3_000_000
    (logs / DOMAIN / "items.csv").write_text(
        f'item_id,title,category,price\nI1,"{big}",food,1\nI2,b,food,2\n'
    )
    wh = Warehouse(tmp_path / "wh.duckdb")
    result = _ingest(logs, wh, "items")["items"]
    assert (result.accepted, result.quarantined) == (1, 1)
    reason = _reasons(wh, "items")[1]
    assert reason.startswith("record too large: 3000") and "limit of 2000000 bytes" in reason


def test_nul_bytes_cr_in_fields_and_huge_json_lines(logs, tmp_path):
    folder = logs / DOMAIN
    (folder / "items.csv").write_bytes(
        b'item_id,title,category,price\nI1,"two\r\nlines",food,1\nI2,nul\x00here,food,2\n'
    )
    huge = {"request_id": "R9", "user_id": "USR-7", "ts": "2026-05-01", "query": "q" * 5_000_000}
    with (folder / "requests.jsonl").open("a") as fh:
        fh.write(json.dumps(huge) + "\n")
    wh = Warehouse(tmp_path / "wh.duckdb")
    results = _ingest(logs, wh, "items", "requests")
    for r in results.values():
        assert r.read == r.accepted + r.quarantined
    titles = dict(wh.query("SELECT item_id, title FROM raw_items").rows())
    assert titles.get("I1") == "two\r\nlines"
    assert results["requests"].read == 3


def test_a_lookalike_domain_folder_is_not_built(tmp_path):
    from pipelines.runner import scan_log_root

    logs = tmp_path / "logs"
    make_domain(logs)
    make_domain(logs, "fооd")  # Cyrillic о
    domains, skipped = scan_log_root(logs)
    assert domains == ["food"] and list(skipped) == ["fооd"]


def test_a_terminal_escape_in_a_file_name_is_not_sent_to_the_terminal():
    from pipelines.cli import one_line

    line = one_line(RuntimeError("IngestError: food/items-\x1b[31mred.csv lacks x\nsecond"))
    assert line == "food/items-\\x1b[31mred.csv lacks x"
