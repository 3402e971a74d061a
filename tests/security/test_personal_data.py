"""Attack: personal data planted in every form reaches the warehouse, a release or an LLM."""

from __future__ import annotations

import inspect
from pathlib import Path

import duckdb
import pytest

from assets.checks.personal_data import scan_relation
from assets.ingest.table import ingest_table
from core import pii_detect
from core.anonymize import mask_text, sql_mask_text
from core.llm.client import LLMClient, LLMRequest, PersonalDataRefused, personal_data_in
from core.llm.config import LLMConfig
from core.pii_detect import find_personal_data, kinds
from core.warehouse import Warehouse
from schemas.logs import CONTRACT_TABLES
from tests.llm_support.fake_openai import FakeOpenAIServer

from .conftest import DOMAIN, KEY, make_domain, write_jsonl

# A valid resident ID number (GB 11643 check character) and a Luhn-valid card.
ID_NUMBER = "11010519491231002X"  # check character X
CARD = "6222021234567894"
PLANTED = {
    "PHONE": [
        "13912345672",
        "139 1234 5672",
        "139-1234-5673",
        "139.1234.5674",
        "+8613912345676",
        "+86 139 1234 5677",
        "(+86)139-1234-5678",
        "0086 13912345679",
        "１３９１２３４５６７１",  # full-width digits
        "010-12345678",
        "(0755) 1234 5678",
        "+44 20 7946 0958",
        "+1 (415) 555-2671",
    ],
    "EMAIL": ["bob@example.com", "li.lei+x@mail.example.cn", "ann＠example．com"],
    "ID": [ID_NUMBER, "110105 19491231 002X"],
    "CARD": [CARD, "6222 0212 3456 7894", "4111-1111-1111-1111"],
    "IP": ["192.168.10.22", "2001:db8::8a2e:370:7334", "fe80:0:0:0:202:b3ff:fe1e:8329"],
}
ALL_PLANTED = [v for values in PLANTED.values() for v in values]


@pytest.mark.parametrize(("kind", "value"), [(k, v) for k, vs in PLANTED.items() for v in vs])
def test_detector_finds_every_planted_form(kind, value):
    assert kind in kinds(f"请联系 {value} 谢谢"), value


@pytest.mark.parametrize("value", ALL_PLANTED)
def test_masking_removes_every_planted_form_in_sql_and_python(value):
    text = f"note: {value}, thanks"
    con = duckdb.connect()
    masked_sql = con.execute(f"SELECT {sql_mask_text('$t')}", {"t": text}).fetchall()[0][0]
    assert masked_sql == mask_text(text)
    assert find_personal_data(masked_sql) == [], masked_sql


@pytest.mark.parametrize(
    "text",
    [
        "2026-05-11 18:30 (Monday), ¥128.00, 4.5 stars, 1.2 km, item fd-i0000230",
        "order 20260511183000123 at 10:00-22:00, entry 0e4111111111111111bd",
        "location: 22.5691, 113.9931; version 3.12",
        # A real ESCI product title: a size and model years joined by mixed separators.
        "Vimorco iPad 9.7 2018 / 2017 Case",
        # Taobao's 7-digit item and category ids, as a candidate struct renders them.
        "{'item_id': 3108797, 'title': NULL, 'category': category 3102419}",
    ],
)
def test_detector_leaves_ordinary_benchmark_text_alone(text):
    assert find_personal_data(text) == []


def test_detector_is_independent_of_the_masking_patterns():
    source = inspect.getsource(pii_detect)
    assert "from core.anonymize" not in source and "import anonymize" not in source
    assert "PII_PATTERNS" not in source


def _ingest_all(logs: Path, wh: Warehouse) -> None:
    for table in CONTRACT_TABLES.values():
        ingest_table(wh, logs, DOMAIN, table, KEY)


def test_planted_values_and_raw_user_ids_never_reach_the_warehouse(tmp_path):
    logs = tmp_path / "logs"
    queries = [f"call {ALL_PLANTED[0]} or user USR-7", "tea for 42 and USR-7"]
    folder = make_domain(logs, queries=queries)
    turns = [
        {
            "turn_id": f"T{i}",
            "request_id": "R1" if i % 2 else "R2",
            "instruction": f"user USR-7 asks; reach me at {value}",
            "response": f"Sure 42, noted {value}. Price 42.5 at I1 (42). Or 42.",
            "retrieved_item_ids": ["I1"],
        }
        for i, value in enumerate(ALL_PLANTED)
    ]
    turns.append({"turn_id": "bad", "request_id": "R1", "instruction": f"x {CARD}"})  # quarantined
    write_jsonl(folder / "agent_turns.jsonl", turns)
    wh = Warehouse(tmp_path / "wh.duckdb")
    _ingest_all(logs, wh)
    with wh.connect(read_only=True) as con:
        tables = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT table_name FROM information_schema.columns"
            ).fetchall()
        ]
        texts = []
        for t in tables:
            texts += [
                r[0] for r in con.execute(f'SELECT CAST(t AS VARCHAR) FROM "{t}" t').fetchall()
            ]
    assert wh.count("raw_agent_turns") == len(ALL_PLANTED) and wh.count("quarantine") >= 1
    blob = "\n".join(texts)
    leaks = [v for v in ALL_PLANTED if v in blob]
    assert leaks == []
    assert pii_detect.scan_texts(texts) == []
    assert "USR-7" not in blob
    responses = wh.query("SELECT response FROM raw_agent_turns ORDER BY turn_id")["response"]
    # A short raw id (`42`) standing alone is masked; inside a price (`42.5`) it is not a token.
    assert all(
        r.startswith("Sure [USER], noted") and r.endswith("42.5 at I1 ([USER]). Or [USER].")
        for r in responses
    )


def test_release_check_blocks_a_value_the_masking_would_miss():
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE b AS SELECT * FROM (VALUES ('e1', 'ok text 2026-05-11 18:30'), "
        "('e2', 'call 1 3 9 1 2 3 4 5 6 7 8'), ('e3', 'mail ann@example.com')) t(entry_id, prompt)"
    )
    report = scan_relation(con, "b", "behavior_prediction")
    assert not report.passed
    assert report.hits["prompt"] == {"EMAIL": 1, "PHONE": 1} or report.hits["prompt"]["EMAIL"] == 1
    assert all("ann@example.com" not in e for e in report.examples)


def test_release_check_finds_personal_data_in_a_nested_column_repeated_across_entries():
    """Nested columns (a request's history, shared by its entries) are scanned by their distinct
    values: a value repeated on every entry is one finding, and a clean repeat finds nothing."""
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE b AS SELECT 'e' || i AS entry_id, 'clean prompt 2026-05-11' AS prompt, "
        "[{'title': CASE WHEN i < 3 THEN 'note 139 1234 5672' ELSE 'tea' END}] AS history "
        "FROM range(6) r(i)"
    )
    report = scan_relation(con, "b", "behavior_prediction")
    assert not report.passed
    assert report.hits == {"history": {"PHONE": 1}}
    assert all("139 1234 5672" not in e for e in report.examples)


def test_llm_client_refuses_to_send_personal_data(tmp_path):
    leaky = LLMRequest.chat("judge this", "the user 139 1234 5672 asked for tea", "t:1")
    clean = LLMRequest.chat("judge this", "the user asked for tea at 18:30", "t:1")
    assert personal_data_in([{"role": "user", "content": "ip 10.0.0.12"}]) == ["user: IP"]
    with FakeOpenAIServer() as server:
        client = LLMClient(LLMConfig(base_url=server.base_url, model="fake", max_retries=0))
        results, _ = client.run([leaky, clean])
        assert server.requests == 1  # only the clean one left the process
    assert results[0].status == "failed" and "personal data" in results[0].error
    assert "139" not in results[0].error
    assert results[1].answered
    assert issubclass(PersonalDataRefused, Exception)


def test_a_raw_user_id_in_an_extra_field_is_replaced(tmp_path):
    """A drop that names its user column `UserId` (not the contract's `user_id`) keeps it as an
    extra field: the raw id in it must not survive either."""
    logs = tmp_path / "logs"
    folder = make_domain(logs)
    rows = [
        {
            "request_id": "R1",
            "user_id": "USR-7",
            "ts": "2026-05-01",
            "query": "q",
            "UserId": "USR-7",
        },
        {"request_id": "R2", "user_id": "42", "ts": "2026-05-01", "query": "q", "note": "by 42"},
    ]
    write_jsonl(folder / "requests.jsonl", rows)
    wh = Warehouse(tmp_path / "wh.duckdb")
    for table in ("items", "requests"):
        ingest_table(wh, logs, DOMAIN, CONTRACT_TABLES[table], KEY)
    extras = [
        dict(r[0]) for r in wh.query("SELECT extra FROM raw_requests ORDER BY request_id").rows()
    ]
    assert extras == [{"UserId": "[USER]"}, {"note": "by [USER]"}]
