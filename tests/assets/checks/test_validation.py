"""The benchmark suite on frames built from corrupted tables: the matching expectation fails."""

import copy

import pandas as pd
import pytest

from assets.checks.frames import benchmark_frame
from assets.checks.validation import validate_frame
from core.anonymize import find_pii
from schemas.expectations import benchmark_suite
from schemas.expectations.raw import PII_REGEX
from schemas.profiles import get_profile

PII_SAMPLES = [
    "电话13812345678",
    "call 13812345678 now",
    "a13812345678",
    "138123456789",
    "mail 张三a.b@x.com",
    "身份证110101199003071234号",
    "tel 010-12345678",
    "(415) 555-2671",
    "+1 415 555 2671",
    "price 12.50 yuan, 31.2304567",
    "2026-01-05 12:30:00",
    "ids it013 u0200000000000000000",
    "普通文本",
]


@pytest.mark.parametrize("ascii_only", [False, True])
def test_pii_regex_matches_like_core_anonymize_whatever_engine_pandas_picks(ascii_only):
    data = [s for s in PII_SAMPLES if s.isascii() or not ascii_only]
    got = pd.Series(data).astype(str).str.contains(PII_REGEX).tolist()
    assert got == [bool(find_pii(s)) for s in data]


def _validate(fixture_module, tmp_path, dim, rows):
    wh = fixture_module.Warehouse(tmp_path / "wh.duckdb")
    fixture_module.write_benchmark(wh, dim, rows)
    with wh.connect(read_only=True) as con:
        frame = benchmark_frame(con, dim, f'"benchmark_{dim}"')
    return validate_frame(frame, benchmark_suite(dim, get_profile("small")), ["entry_id"])


def _null_label(rows):
    rows[3]["label"] = None


def _duplicate_id(rows):
    rows[5]["entry_id"] = rows[4]["entry_id"]


def _leaked_user(rows):
    user = rows[0]["provenance"]["user_id_hash"]
    other = next(r for r in rows if r["split"] != rows[0]["split"])
    other["provenance"]["user_id_hash"] = user


def _phone_in_response(rows):
    rows[2]["response"] = "Call the shop on 电话13812345678 to book."


def _history_after_request(rows):
    row = next(r for r in rows if r["history"])
    row["history"][0]["ts"] = row["context"]["ts"]


def _label_out_of_range(rows):
    rows[1]["label"] = 7


def _unbalanced(rows):
    for r in rows:
        r["label"] = 1


def _ranking_not_candidates(rows):
    rows[0]["gold_ranking"] = rows[0]["gold_ranking"][:-1] + ["ghost"]


def _test_before_train(rows):
    test = next(r for r in rows if r["split"] == "test")
    test["context"]["ts"] = test["context"]["ts"].replace(year=2020)
    for h in test["history"]:
        h["ts"] = h["ts"].replace(year=2020)


CASES = [
    ("instruction_following", _null_label, "expect_column_values_to_not_be_null", "label", 1),
    ("factual_consistency", _duplicate_id, "expect_column_values_to_be_unique", "entry_id", 2),
    (
        "query_item_relevance",
        _leaked_user,
        "expect_column_values_to_be_in_set",
        "user_split_count",
        None,
    ),
    (
        "instruction_following",
        _phone_in_response,
        "expect_column_values_to_not_match_regex",
        "response",
        1,
    ),
    (
        "behavior_prediction",
        _history_after_request,
        "expect_column_values_to_be_in_set",
        "history_before_request",
        1,
    ),
    ("query_item_relevance", _label_out_of_range, "expect_column_values_to_be_in_set", "label", 1),
    ("factual_consistency", _unbalanced, "expect_column_mean_to_be_between", "label", None),
    (
        "item_ranking",
        _ranking_not_candidates,
        "expect_column_values_to_be_in_set",
        "ranking_is_permutation",
        1,
    ),
    (
        "item_ranking",
        _test_before_train,
        "expect_column_values_to_be_in_set",
        "test_after_train",
        1,
    ),
]


@pytest.mark.parametrize(("dim", "corrupt", "expectation", "column", "count"), CASES)
def test_corruption_fails_the_matching_expectation(
    fixture_module, tmp_path, dim, corrupt, expectation, column, count
):
    rows = copy.deepcopy(fixture_module.make_entries(dim))
    corrupt(rows)
    outcome = _validate(fixture_module, tmp_path, dim, rows)
    assert not outcome.success
    hits = [f for f in outcome.failed if f.expectation == expectation and f.column == column]
    assert hits, [f.describe() for f in outcome.failed]
    if count is not None:
        assert hits[0].unexpected_count == count
        assert hits[0].examples  # named by entry_id
        ids = {r["entry_id"] for r in rows}
        assert hits[0].examples[0].split(":")[0] in ids


def test_valid_tables_pass_every_suite(fixture_module, tmp_path):
    for dim in fixture_module.DIMENSIONS:
        outcome = _validate(fixture_module, tmp_path, dim, fixture_module.make_entries(dim))
        assert outcome.success, [f.describe() for f in outcome.failed]
        assert outcome.evaluated > 25


def test_pii_examples_and_stored_result_are_masked(fixture_module, tmp_path):
    rows = fixture_module.make_entries("instruction_following")
    _phone_in_response(rows)
    outcome = _validate(fixture_module, tmp_path, "instruction_following", rows)
    failure = next(f for f in outcome.failed if f.column == "response")
    assert "PHONE" in failure.examples[0] and "[PHONE]" in failure.examples[0]
    assert "13812345678" not in failure.describe()
    assert "13812345678" not in str(outcome.results)


def test_missing_column_is_reported_not_raised(fixture_module, tmp_path):
    wh = fixture_module.Warehouse(tmp_path / "wh.duckdb")
    fixture_module.write_benchmark(
        wh, "query_item_relevance", fixture_module.make_entries("query_item_relevance")
    )
    with wh.connect() as con:
        con.execute("ALTER TABLE benchmark_query_item_relevance DROP COLUMN label")
    with wh.connect(read_only=True) as con:
        frame = benchmark_frame(con, "query_item_relevance", '"benchmark_query_item_relevance"')
    outcome = validate_frame(
        frame, benchmark_suite("query_item_relevance", get_profile("small")), ["entry_id"]
    )
    assert not outcome.success
    assert any(f.expectation == "expect_table_columns_to_match_set" for f in outcome.failed)
    assert any(f.column == "label" and "error" in (f.observed or "") for f in outcome.failed)


def test_frames_are_validated_without_gx_fingerprinting_them(fixture_module, tmp_path, monkeypatch):
    # The fingerprint is an md5 of the whole frame that nothing reads; on text it cost as much
    # as the expectations. A corrupted row must still fail as before.
    from great_expectations.execution_engine import pandas_execution_engine

    def fingerprint(df):
        raise AssertionError("GX fingerprinted a validated frame")

    monkeypatch.setattr(pandas_execution_engine, "hash_pandas_dataframe", fingerprint)
    rows = fixture_module.make_entries("instruction_following")
    _phone_in_response(rows)
    outcome = _validate(fixture_module, tmp_path, "instruction_following", rows)
    assert any(f.column == "response" for f in outcome.failed)
    assert "pandas_data_fingerprint" not in str(outcome.results)
