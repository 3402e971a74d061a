"""Large tables are validated in parts (table + text chunks) with the same outcome as one run."""

import pytest

from assets.checks.benchmark import validate_benchmark
from schemas.profiles import get_profile


def _corrupt(rows):
    rows[2]["response"] = "电话13812345678"
    rows[9]["response"] = "mail x.y@example.org"
    rows[17]["prompt"] = "call +1 415 555 2671 for the rubric of this reward-model task"
    rows[5]["entry_id"] = rows[4]["entry_id"]
    rows[3]["label"] = None
    rows[11]["entry_id"] = None  # chunks select rows by id: a null id must not hide its text
    rows[11]["prompt"] = "write to a.b@example.com for the rubric of this reward-model task"


def _key(outcome):
    return [(f.expectation, f.column, f.unexpected_count, f.element_count) for f in outcome.failed]


@pytest.mark.parametrize("sample_rows", [2_000, 1])
@pytest.mark.parametrize("corrupt", [False, True])
def test_chunked_validation_equals_a_single_run(fixture_module, tmp_path, corrupt, sample_rows):
    rows = fixture_module.make_entries("instruction_following")
    if corrupt:
        _corrupt(rows)
    wh = fixture_module.Warehouse(tmp_path / "wh.duckdb")
    fixture_module.write_benchmark(wh, "instruction_following", rows)
    profile = get_profile("small")
    with wh.connect(read_only=True) as con:
        whole = validate_benchmark(
            con, "instruction_following", "benchmark_instruction_following", profile
        )
        parts = validate_benchmark(
            con,
            "instruction_following",
            "benchmark_instruction_following",
            profile,
            chunk_rows=7,
            sample_rows=sample_rows,
        )
    # The label mean runs on every row's label alone; the rest on the sample and flagged rows.
    assert {"table", "table-aggregate"} <= set(parts.results)
    if sample_rows > len(rows):  # every row is in the sample
        assert {p for p in parts.results if p.startswith("text-")} == {
            "text-000", "text-001", "text-002", "text-003"
        }  # fmt: skip
    else:  # only the sample and the rows DuckDB flags reach GX
        assert len([p for p in parts.results if p.startswith("text-")]) < 4
    assert parts.success == whole.success == (not corrupt)
    assert _key(parts) == _key(whole)
    if corrupt:
        regex = {f.column: f for f in parts.failed if "regex" in f.expectation}
        assert regex["response"].unexpected_count == 2 and len(regex["response"].examples) == 2
        assert regex["prompt"].unexpected_count == 2
