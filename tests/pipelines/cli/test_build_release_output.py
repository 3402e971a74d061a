"""`recrm build` output: failed expectations with counts and examples, and the release summary."""

import importlib.util
from pathlib import Path

import pytest
from dagster import AssetSelection, asset, materialize

from assets.checks.assets import BENCHMARK_CHECKS
from assets.release.assets import release
from assets.resources import BuildSettings, WarehouseResource
from pipelines.cli import build
from pipelines.cli.common import print_check_failures
from pipelines.runner import RunReport, _collect, _failure_reason
from schemas.entries import DIMENSIONS

_spec = importlib.util.spec_from_file_location(
    "recrm_benchmark_fixture",
    Path(__file__).parents[2] / "assets" / "release" / "benchmark_fixture.py",
)
fixture = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fixture)


def _stub(dim):
    @asset(key=[dim, "benchmark"], group_name="benchmark")
    def _benchmark() -> None:  # the fixture wrote the table already
        return None

    return _benchmark


def _run(tmp_path, wh):
    result = materialize(
        [*[_stub(d) for d in DIMENSIONS], *BENCHMARK_CHECKS, release],
        selection=AssetSelection.groups("benchmark", "release"),
        resources={
            "warehouse": WarehouseResource(path=str(wh.path)),
            "build": BuildSettings(releases_dir=str(tmp_path / "releases")),
        },
        raise_on_error=False,
    )
    report = RunReport()
    _collect(result, report)
    return result, report


def test_a_failed_step_is_named_with_its_error_not_the_advice_after_it():
    """DuckDB's out-of-memory error goes on with advice and a link: the one-line reason is the
    error itself, with the setting that raises the limit."""
    import duckdb

    @asset(key=["staging", "request_items"])
    def _step() -> None:
        raise duckdb.OutOfMemoryException(
            "Out of Memory Error: could not allocate block of size 256.0 KiB (1.8 GiB/1.8 GiB "
            "used)\n\nPossible solutions:\n* Reducing the number of threads (SET threads=X)\n"
            "\nSee also https://duckdb.org/docs/current/guides/performance/how_to_tune_workloads"
        )

    result = materialize([_step], raise_on_error=False)
    reason = _failure_reason(result, RunReport())
    assert reason.startswith("staging__request_items: ")
    assert "Out of Memory Error: could not allocate block" in reason
    assert "RECRM_DUCKDB_MEMORY_LIMIT" in reason and "See also" not in reason


def test_failed_expectations_are_listed(tmp_path, capsys):
    wh = fixture.build_benchmark_warehouse(tmp_path / "data" / "wh.duckdb")
    rows = fixture.make_entries("instruction_following")
    rows[4]["response"] = "mail me at someone@example.com"
    rows[6]["label"] = 5
    fixture.write_benchmark(wh, "instruction_following", rows)
    result, report = _run(tmp_path, wh)
    assert not result.success
    assert _failure_reason(result, report) == (
        "blocking checks failed: instruction_following/benchmark:expectations"
    )
    print_check_failures(report)
    out = capsys.readouterr().out
    assert "failed expectations" in out
    assert "expect_column_values_to_not_match_regex(response)" in out
    assert "EMAIL" in out and "someone@example.com" not in out
    assert "expect_column_values_to_be_in_set(label)" in out
    label_line = next(line for line in out.splitlines() if "be_in_set(label)" in line)
    assert "1 of 24 rows" in label_line and rows[6]["entry_id"] + ": 5" in label_line


@pytest.mark.slow
def test_release_summary_is_printed(tmp_path, capsys):
    wh = fixture.build_benchmark_warehouse(tmp_path / "data" / "wh.duckdb")
    result, report = _run(tmp_path, wh)
    assert result.success
    build.print_release_summary(report)
    out = capsys.readouterr().out
    (release_dir,) = list((tmp_path / "releases").iterdir())
    assert f"release {release_dir.name}" in out
    assert "item_ranking" in out and "validation" in out
    assert "recrm validate" in out
