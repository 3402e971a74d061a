"""The `evaluation` asset group on a real Dagster instance: `recrm eval` registers the scorer
partition and materializes its result with the metrics table and the chart; the result is stale
only when its configuration or its release changes."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance
from dagster._core.definitions.data_version import StaleStatus
from dagster._utils.test.data_versions import get_stale_status_resolver
from eval_support import publish_fixture_release

from assets.evaluation.assets import result, scorer
from assets.evaluation.results import load_spec, register_spec
from pipelines.cli import main
from pipelines.definitions import defs

REPO = Path(__file__).resolve().parents[3]
RESULT = AssetKey(["evaluation", "result"])
pytestmark = pytest.mark.slow


def _status(instance: DagsterInstance, name: str) -> StaleStatus:
    return get_stale_status_resolver(instance, [scorer, result]).get_status(RESULT, name)


def _observe(out: Path) -> None:
    from dagster._core.definitions.observe import observe

    from assets.resources import EvaluationSettings
    from pipelines.runner import project_instance

    with project_instance() as instance:
        observe(
            [scorer],
            instance=instance,
            resources={"evaluation": EvaluationSettings(results_dir=str(out))},
        )


def test_the_group_is_in_the_code_location():
    graph = defs.resolve_asset_graph()
    keys = {k for k in graph.get_all_asset_keys() if k.path[0] == "evaluation"}
    assert keys == {RESULT, AssetKey(["evaluation", "scorer"])}
    node = graph.get(RESULT)
    assert node.group_name == "evaluation" and node.partitions_def.name == "scorer"


def test_eval_materializes_a_partition_that_goes_stale_only_on_change(tmp_path, monkeypatch):
    shutil.copy(REPO / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.chdir(tmp_path)
    release = publish_fixture_release(tmp_path / "build", version="fixture")
    out = tmp_path / "results"
    args = [
        "eval",
        str(release),
        "--name",
        "maj",
        "--baseline",
        "majority",
        "--out",
        str(out),
        "--resamples",
        "20",
    ]
    assert main(args) == 0

    from pipelines.runner import project_instance

    with project_instance() as instance:
        assert instance.get_dynamic_partitions("scorer") == ["maj"]
        event = instance.get_latest_materialization_event(RESULT)
        assert event.asset_materialization.partition == "maj"
        metadata = event.asset_materialization.metadata
        assert (
            "| IF | acc |" in metadata["metrics"].value
            and "95% interval" in metadata["metrics"].value
        )
        chart = metadata["chart"].value
        assert chart.startswith("![maj](data:image/png;base64,")
        assert base64.b64decode(chart.split(",", 1)[1].rstrip(")")).startswith(b"\x89PNG")
        # The headline columns are the summary's figures x100.
        summary = json.loads((out / "fixture" / "maj" / "summary.json").read_text())
        acc = summary["dimensions"]["behavior_prediction"]["metrics"]["acc"]["value"]
        assert metadata["UBP ACC"].value == round(acc * 100, 2)
        assert _status(instance, "maj") == StaleStatus.FRESH

    # Observing again with nothing changed keeps it fresh.
    _observe(out)
    with project_instance() as instance:
        assert _status(instance, "maj") == StaleStatus.FRESH

    # A changed configuration (another seed) makes it stale; evaluating it makes it fresh again.
    register_spec(out, load_spec(out, "maj").model_copy(update={"seed": 9}))
    _observe(out)
    with project_instance() as instance:
        assert _status(instance, "maj") == StaleStatus.STALE
    assert main([*args, "--seed", "9"]) == 0
    with project_instance() as instance:
        assert _status(instance, "maj") == StaleStatus.FRESH

    # A changed release (rebuilt under the same version with other entries) makes it stale.
    shutil.rmtree(tmp_path / "build" / "wh.duckdb.files", ignore_errors=True)
    (tmp_path / "build" / "wh.duckdb").unlink()
    publish_fixture_release(tmp_path / "build", n=66, version="fixture")
    _observe(out)
    with project_instance() as instance:
        assert _status(instance, "maj") == StaleStatus.STALE


def test_a_failed_evaluation_takes_its_new_name_back(eval_release, tmp_path, monkeypatch):
    shutil.copy(REPO / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text("entry_id,label\nnot-an-entry,1\n")
    out = tmp_path / "results"
    assert (
        main(
            [
                "eval",
                str(eval_release),
                "--name",
                "bad",
                "--predictions",
                str(bad),
                "--out",
                str(out),
            ]
        )
        == 1
    )
    from pipelines.runner import project_instance

    with project_instance() as instance:
        assert instance.get_dynamic_partitions("scorer") == []
    assert not (out / ".scorers" / "bad.json").exists()
