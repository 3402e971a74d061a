"""The validity gate: its table on releases written in code, its place in the manifest and the card,
and the blocking `["release"]:validity` asset check on a real Dagster run."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path

import polars as pl
import pytest
from dagster import AssetKey, AssetSelection, DagsterEventType, materialize

from assets.checks.validity.assets import release_validity_check
from assets.checks.validity.gate import validity_report
from assets.release.assets import release
from assets.release.publish import publish_release
from assets.resources import BuildSettings, WarehouseResource
from core.settings import Settings, ValidityThresholds
from core.warehouse import Warehouse
from schemas.entries import DIMENSIONS

# Words of logged-looking responses: every response is a random draw, so nothing in the text says
# its label.
WORDS = (
    "noodles", "hotpot", "near", "cheap", "open", "late", "rated", "yuan", "km", "spicy", "quiet",
    "friendly", "service", "value", "regulars", "branch", "dumplings", "tea", "grill", "fresh",
)  # fmt: skip
MARKER = "A quick note: at busy times you may have to wait, so plan ahead."


def _release(root: Path, plant: str | None = None, n: int = 400) -> Path:
    """A release folder with instruction-following shards only: responses drawn at random,
    labels independent of them; `plant` appended to every negative's response."""
    rng = random.Random(7)
    rows = []
    for i in range(n):
        label = i % 2
        response = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 20)))
        if plant and label == 0:
            response += " " + plant
        rows.append(
            {
                "entry_id": f"e{i:04d}",
                "domain": "food_delivery",
                "split": "test" if i % 5 == 0 else "train",
                "response": response,
                "label": label,
                "is_synthetic": label == 0 and i % 3 != 0,
            }
        )
    folder = root / "instruction_following"
    folder.mkdir(parents=True)
    frame = pl.DataFrame(rows, schema_overrides={"label": pl.Int8})
    for split in ("train", "test"):
        frame.filter(pl.col("split") == split).write_parquet(
            folder / f"{split}-00000-of-00001.parquet"
        )
    return root


def _rows(report) -> dict[str, dict]:
    return {r.check: r for r in report.rows if r.dimension in ("instruction_following", "*")}


def test_responses_that_say_nothing_of_their_label_pass(tmp_path):
    report = validity_report(_release(tmp_path))
    rows = _rows(report)
    assert report.passed, report.lines()
    assert rows["marker_rule"].value <= 0.55 and rows["marker_rule"].status == "passed"
    assert rows["response_ngram"].value <= 0.60
    assert rows["leaks"].value == 0


def test_marker_text_planted_in_negatives_fails_the_gate(tmp_path):
    report = validity_report(_release(tmp_path, plant=MARKER))
    rows = _rows(report)
    assert not report.passed
    assert rows["marker_rule"].status == "failed" and rows["marker_rule"].value > 0.9
    assert rows["marker_rule"].low > 0.55  # beyond the bound, whatever the sampling noise
    assert rows["response_ngram"].status == "failed" and rows["response_ngram"].value > 0.9
    assert "marker strings" in rows["marker_rule"].detail
    failed = {r.check for r in report.failures}
    assert {"marker_rule", "response_ngram"} <= failed


def test_thresholds_come_from_the_configuration(tmp_path):
    lenient = ValidityThresholds(marker_max_acc=1.0, response_ngram_max_auc=1.0)
    report = validity_report(_release(tmp_path, plant=MARKER), lenient)
    assert _rows(report)["marker_rule"].status == "passed"
    assert _rows(report)["marker_rule"].threshold == 1.0


def test_a_figure_beyond_its_bound_by_chance_warns_and_strict_fails(tmp_path):
    release = _release(tmp_path)
    report = validity_report(release, ValidityThresholds(marker_max_acc=0.45))
    row = _rows(report)["marker_rule"]
    # ACC near 0.5 with ~80 test entries: beyond 0.45, but its interval reaches it.
    assert row.value > 0.45 and row.low < 0.45 < row.high
    assert row.status == "warning" and report.passed
    strict = validity_report(release, ValidityThresholds(marker_max_acc=0.45, strict=True))
    assert _rows(strict)["marker_rule"].status == "failed" and not strict.passed


def test_too_few_test_entries_are_skipped_not_passed_as_measured(tmp_path):
    report = validity_report(_release(tmp_path, n=24))
    row = _rows(report)["marker_rule"]
    assert row.status == "skipped" and row.value is None and "too few" in row.detail


# -- releases published from benchmark tables --------------------------------------------------
def _leaky_rows(fixture_module) -> dict[str, list[dict]]:
    """The fixture's tables with one test user's identity on a train entry of another
    dimension and a test response repeated verbatim in train."""
    rows = {d: copy.deepcopy(fixture_module.make_entries(d)) for d in DIMENSIONS}
    first = lambda dim, split: next(r for r in rows[dim] if r["split"] == split)  # noqa: E731
    test_user = first("behavior_prediction", "test")["provenance"]["user_id_hash"]
    first("query_item_relevance", "train")["provenance"]["user_id_hash"] = test_user
    first("factual_consistency", "train")["response"] = first("instruction_following", "test")[
        "response"
    ]
    return rows


def _warehouse(tmp_path, fixture_module, rows) -> Warehouse:
    wh = Warehouse(tmp_path / "wh.duckdb")
    for dim, entries in rows.items():
        fixture_module.write_benchmark(wh, dim, entries)
    fixture_module.write_inputs(wh)
    return wh


def test_a_leaky_release_records_a_failed_gate_in_manifest_and_card(tmp_path, fixture_module):
    wh = _warehouse(tmp_path, fixture_module, _leaky_rows(fixture_module))
    settings = Settings(releases_dir=tmp_path / "releases", warehouse_path=wh.path)
    published = publish_release(
        wh, settings, code={"package": "t", "version": "0", "git_commit": None}
    )
    validity = published.manifest["validity"]
    assert validity["passed"] is False
    (leaks,) = [r for r in validity["rows"] if r["check"] == "leaks"]
    assert leaks["status"] == "failed" and "users test/behavior_prediction" in leaks["detail"]
    assert "responses test/instruction_following" in leaks["detail"]
    on_disk = json.loads((published.path / "manifest.json").read_text())
    assert on_disk["validity"] == validity
    card = (published.path / "README.md").read_text()
    assert "## Validity" in card and "**FAILED**" in card and "| leaks | * |" in card


def _checks(result):
    return [
        e.event_specific_data
        for e in result.all_events
        if e.event_type == DagsterEventType.ASSET_CHECK_EVALUATION
    ]


@pytest.mark.parametrize("leaky", [False, True])
def test_the_blocking_check_fails_a_leaky_release(tmp_path, fixture_module, leaky):
    rows = (
        _leaky_rows(fixture_module)
        if leaky
        else {d: fixture_module.make_entries(d) for d in DIMENSIONS}
    )
    wh = _warehouse(tmp_path, fixture_module, rows)
    result = materialize(
        [release, release_validity_check],
        selection=AssetSelection.assets(AssetKey(["release"])),
        resources={
            "warehouse": WarehouseResource(path=str(wh.path)),
            "build": BuildSettings(releases_dir=str(tmp_path / "releases")),
        },
        raise_on_error=False,
    )
    (check,) = _checks(result)
    assert check.check_name == "validity" and check.asset_key == AssetKey(["release"])
    assert check.passed is (not leaky)
    assert result.success is (not leaky)
    table = check.metadata["table"].value
    assert {r["check"] for r in table} >= {"leaks", "marker_rule", "position_only"}
    if leaky:
        assert "leaks" in check.metadata["error"].value
