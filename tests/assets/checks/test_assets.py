"""The checks as Dagster runs: a failing blocking check stops the release; results are kept."""

import copy
import json
from pathlib import Path

import pyarrow as pa
import pytest
from dagster import AssetKey, AssetSelection, DagsterEventType, DagsterInstance, asset, materialize

from assets.checks.assets import BENCHMARK_CHECKS, INGEST_CHECKS
from assets.checks.data_docs import build_data_docs
from assets.partitions import DOMAINS
from assets.release.assets import release
from assets.resources import BuildSettings, WarehouseResource
from schemas.entries import DIMENSIONS
from schemas.logs import EVENTS


def _stub_benchmark(dim):
    # Stands in for the benchmark layer's asset: the fixture has already written the table.
    @asset(key=[dim, "benchmark"], group_name="benchmark")
    def _stub() -> None:
        return None

    return _stub


STUBS = [_stub_benchmark(d) for d in DIMENSIONS]


def _resources(tmp_path, wh):
    return {
        "warehouse": WarehouseResource(path=str(wh.path)),
        "build": BuildSettings(releases_dir=str(tmp_path / "releases"), profile="small"),
    }


def _run(tmp_path, wh, dims):
    selection = AssetSelection.assets(
        *[AssetKey([d, "benchmark"]) for d in dims]
    ) | AssetSelection.assets(AssetKey(["release"]))
    return materialize(
        [*STUBS, *BENCHMARK_CHECKS, release],
        selection=selection,
        resources=_resources(tmp_path, wh),
        raise_on_error=False,
    )


def _checks(result):
    return [
        e.event_specific_data
        for e in result.all_events
        if e.event_type == DagsterEventType.ASSET_CHECK_EVALUATION
    ]


def _released(result):
    return any(
        e.event_type == DagsterEventType.ASSET_MATERIALIZATION
        and e.event_specific_data.materialization.asset_key == AssetKey(["release"])
        for e in result.all_events
    )


def _corrupt_phone(rows):
    rows[0]["response"] = "ring me: 13812345678"


def _corrupt_history(rows):
    row = next(r for r in rows if r["history"])
    row["history"][-1]["ts"] = row["context"]["ts"].replace(hour=23)


def _corrupt_leak(rows):
    other = next(r for r in rows if r["split"] != rows[0]["split"])
    other["provenance"]["user_id_hash"] = rows[0]["provenance"]["user_id_hash"]


def _corrupt_null_label(rows):
    rows[0]["label"] = None


def _corrupt_duplicate(rows):
    rows[1]["entry_id"] = rows[0]["entry_id"]


def _corrupt_label_range(rows):
    rows[0]["label"] = 3


SLOW = pytest.mark.slow  # every corruption is also covered, fast, in test_validation.py
_IN_SET = "expect_column_values_to_be_in_set"


@pytest.mark.parametrize(
    ("dim", "corrupt", "expected", "column", "count"),
    [
        (
            "instruction_following",
            _corrupt_null_label,
            "expect_column_values_to_not_be_null",
            "label",
            1,
        ),
        (
            "instruction_following",
            _corrupt_phone,
            "expect_column_values_to_not_match_regex",
            "response",
            1,
        ),
        pytest.param(
            "factual_consistency",
            _corrupt_duplicate,
            "expect_column_values_to_be_unique",
            "entry_id",
            2,
            marks=SLOW,
        ),
        # the leaked user's rows in both splits: 4 + the moved one
        pytest.param(
            "query_item_relevance", _corrupt_leak, _IN_SET, "user_split_count", 5, marks=SLOW
        ),
        pytest.param(
            "item_ranking", _corrupt_history, _IN_SET, "history_before_request", 1, marks=SLOW
        ),
        pytest.param("behavior_prediction", _corrupt_label_range, _IN_SET, "label", 1, marks=SLOW),
    ],
)
def test_failed_blocking_check_stops_the_release(
    fixture_module, benchmark_warehouse, tmp_path, dim, corrupt, expected, column, count
):
    rows = copy.deepcopy(fixture_module.make_entries(dim))
    corrupt(rows)
    fixture_module.write_benchmark(benchmark_warehouse, dim, rows)
    result = _run(tmp_path, benchmark_warehouse, [dim])
    assert not result.success
    (check,) = _checks(result)
    assert check.asset_key == AssetKey([dim, "benchmark"]) and not check.passed
    failures = check.metadata["failed_expectations"].value
    hit = [f for f in failures if f["expectation"] == expected and f["column"] == column]
    assert hit and hit[0]["unexpected_count"] == count, failures
    assert all(f["examples"] for f in failures if f["unexpected_count"])
    assert not _released(result)
    assert not (tmp_path / "releases").exists() or not any((tmp_path / "releases").iterdir())
    stored = json.loads(Path(check.metadata["result_path"].value).read_text())
    assert stored["success"] is False
    assert f"/validation/{result.run_id}/" in check.metadata["result_path"].value


def test_valid_benchmark_passes_checks_and_releases(benchmark_warehouse, tmp_path, monkeypatch):
    monkeypatch.setenv("RECRM_RELEASE_SHARD_ROWS", "7")
    result = _run(tmp_path, benchmark_warehouse, DIMENSIONS)
    assert result.success
    checks = _checks(result)
    assert len(checks) == len(DIMENSIONS) and all(c.passed for c in checks)
    assert _released(result)
    (version_dir,) = [p for p in (tmp_path / "releases").iterdir()]
    assert (version_dir / "manifest.json").is_file()
    # The suites' results are kept with the run and render as Data Docs.
    results = benchmark_warehouse.path.parent / "validation" / result.run_id
    assert len(list(results.glob("*.json"))) == len(DIMENSIONS)
    index = build_data_docs(results, tmp_path / "docs", run_name="r1")
    assert "item_ranking.benchmark" in index.read_text()
    (page,) = (tmp_path / "docs" / "validations").rglob("item_ranking.benchmark.html")
    assert page.stat().st_size > 1000 and "r1" in page.read_text()
    # and each check's metadata links the warehouse's site
    docs = benchmark_warehouse.path.parent / "validation" / "docs" / "index.html"
    assert all(c.metadata["data_docs"].value == str(docs) for c in checks)


def _raw_events(rows):
    schema = EVENTS.warehouse_schema()
    cols = {n: [r.get(n) for r in rows] for n in schema.names}
    return pa.table(cols, schema=schema)


def _event(i, event_type="click", ts_minute=0):
    from datetime import datetime

    return {
        "domain": "hotel",
        "request_id": f"r{i}",
        "user_id_hash": "u" * 20,
        "item_id": f"it{i}",
        "ts": datetime(2026, 3, 1, 10, ts_minute),
        "event_type": event_type,
        "amount": None,
        "extra": [],
        "source_file": "logs/hotel/events.csv",
        "source_row": i + 1,
    }


@asset(key=["ingest", "events"], group_name="ingest", partitions_def=DOMAINS)
def _ingest_events_stub() -> None:
    return None


def test_ingest_checks_block_on_keys_and_warn_on_contract(fixture_module, tmp_path):
    wh = fixture_module.Warehouse(tmp_path / "data" / "wh.duckdb")
    rows = [_event(0), _event(1, "teleport"), _event(2)]
    rows.append(dict(rows[0], source_row=4))  # the same event twice: a duplicate key
    wh.write_partition("raw_events", "hotel", _raw_events(rows), schema=EVENTS.warehouse_schema())
    checks = [
        c
        for c in INGEST_CHECKS
        if AssetKey(["ingest", "events"]) in {k.asset_key for k in c.check_keys}
    ]
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(DOMAINS.name, ["hotel"])
        result = materialize(
            [_ingest_events_stub, *checks],
            partition_key="hotel",
            instance=instance,
            resources=_resources(tmp_path, wh),
            raise_on_error=False,
        )
    evaluations = {c.check_name: c for c in _checks(result)}
    assert not result.success  # the keys check is blocking
    keys, contract = evaluations["keys"], evaluations["contract"]
    assert not keys.passed and keys.severity.value == "ERROR"
    (dup,) = keys.metadata["failed_expectations"].value
    assert dup["expectation"] == "expect_compound_columns_to_be_unique"
    assert dup["unexpected_count"] == 2
    assert "logs/hotel/events.csv, 1" in dup["examples"][0]
    assert not contract.passed and contract.severity.value == "WARN"
    failures = contract.metadata["failed_expectations"].value
    bad = next(f for f in failures if f["column"] == "event_type")
    assert bad["unexpected_count"] == 1 and "teleport" in bad["examples"][0]
