"""The sensors, evaluated against a real (ephemeral) Dagster instance."""

from __future__ import annotations

import pytest
from dagster import (
    DagsterInstance,
    DagsterRun,
    DagsterRunStatus,
    RunRequest,
    SkipReason,
    build_sensor_context,
)

from assets.partitions import DOMAINS
from pipelines.resources import BuildSettings
from pipelines.sensors import SENSORS, new_domain_sensor, release_after_domains


@pytest.fixture
def instance():
    with DagsterInstance.ephemeral() as inst:
        yield inst


def _domain(root, name, files=("items.csv",)):
    folder = root / name
    folder.mkdir(parents=True)
    for f in files:
        (folder / f).write_text("item_id\n")


def _evaluate_new_domains(instance, root):
    context = build_sensor_context(
        instance=instance, resources={"build": BuildSettings(logs_root=str(root))}
    )
    return new_domain_sensor(context)


def test_exported():
    assert {s.name for s in SENSORS} == {
        "new_domain_sensor",
        "release_after_domains",
        "data_docs_after_run",
        "data_docs_after_failure",
    }
    assert new_domain_sensor.job_name == "build_domain"
    assert release_after_domains.job_name == "publish_release"


def test_new_domain_adds_partitions_and_requests_builds(instance, tmp_path):
    root = tmp_path / "logs"
    _domain(root, "hotel")
    _domain(root, "food")
    _domain(root, "_truth")  # not a domain
    _domain(root, "empty", files=())
    instance.add_dynamic_partitions(DOMAINS.name, ["hotel"])

    result = _evaluate_new_domains(instance, root)
    assert [(r.partition_key, r.run_key) for r in result.run_requests] == [
        ("food", "new-domain:food")
    ]
    [request] = result.dynamic_partitions_requests
    assert (request.partitions_def_name, list(request.partition_keys)) == ("domain", ["food"])


def test_new_domain_applied_through_instance(instance, tmp_path):
    """Partitions requested by the sensor land in the instance; the next tick skips."""
    root = tmp_path / "logs"
    _domain(root, "food")
    result = _evaluate_new_domains(instance, root)
    for request in result.dynamic_partitions_requests:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    assert instance.get_dynamic_partitions("domain") == ["food"]
    again = _evaluate_new_domains(instance, root)
    assert isinstance(again, SkipReason) and "no new domain" in again.skip_message


def test_new_domain_skips_missing_root(instance, tmp_path):
    result = _evaluate_new_domains(instance, tmp_path / "absent")
    assert isinstance(result, SkipReason) and "is not a folder" in result.skip_message


def _run(instance, job, status, domain=None):
    tags = {"dagster/partition": domain} if domain else {}
    run = DagsterRun(job_name=job, status=status, tags=tags)
    instance.add_run(run)
    return run.run_id


def _release(instance):
    return release_after_domains(build_sensor_context(instance=instance))


def test_release_waits_for_every_domain(instance):
    instance.add_dynamic_partitions(DOMAINS.name, ["food", "hotel"])
    assert "no domain" not in _release(instance).skip_message
    food = _run(instance, "build_domain", DagsterRunStatus.SUCCESS, "food")
    assert "hotel has not been rebuilt" in _release(instance).skip_message
    _run(instance, "build_domain", DagsterRunStatus.FAILURE, "hotel")
    assert "hotel is FAILURE" in _release(instance).skip_message
    hotel = _run(instance, "build_domain", DagsterRunStatus.SUCCESS, "hotel")

    request = _release(instance)
    assert isinstance(request, RunRequest)
    assert request.run_key == f"release:food={food},hotel={hotel}"

    # After a release, both domains must be rebuilt again before the next one.
    _run(instance, "publish_release", DagsterRunStatus.SUCCESS)
    _run(instance, "build_domain", DagsterRunStatus.SUCCESS, "food")
    assert "hotel has not been rebuilt" in _release(instance).skip_message
    _run(instance, "build_domain", DagsterRunStatus.SUCCESS, "hotel")
    assert isinstance(_release(instance), RunRequest)


def test_release_skips_while_one_runs(instance):
    instance.add_dynamic_partitions(DOMAINS.name, ["food"])
    _run(instance, "build_domain", DagsterRunStatus.SUCCESS, "food")
    _run(instance, "publish_release", DagsterRunStatus.STARTED)
    assert "in progress" in _release(instance).skip_message


def test_release_without_domains(instance):
    assert "no domain partitions" in _release(instance).skip_message


def test_ui_runs_add_their_check_results_to_the_data_docs_site(tmp_path):
    import pandas as pd
    from great_expectations import ExpectationSuite, expectations

    from assets.checks.results import results_dir, site_index, store_outcome
    from assets.checks.validation import validate_frame
    from pipelines.resources import WarehouseResource
    from pipelines.sensors import add_run_docs

    warehouse = WarehouseResource(path=str(tmp_path / "data" / "wh.duckdb"))
    suite = ExpectationSuite(
        name="raw_items.keys", expectations=[expectations.ExpectColumnValuesToBeUnique(column="k")]
    )
    outcome = validate_frame(pd.DataFrame({"k": [1, 1]}), suite)
    for run_id in ("ui-run", "cli-run"):
        store_outcome(results_dir(warehouse.path, run_id), "ingest.items.keys.hotel", outcome)
    ui_run = DagsterRun(job_name="build_domain", run_id="ui-run")
    cli_run = DagsterRun(job_name="build_domain", run_id="cli-run", tags={"recrm/cli": "true"})

    assert "came from the CLI" in add_run_docs(cli_run, warehouse).skip_message
    index = site_index(tmp_path / "data" / "validation")
    assert not index.exists()
    assert str(index) in add_run_docs(ui_run, warehouse).skip_message
    assert "ui-run" in index.read_text() and "cli-run" not in index.read_text()
