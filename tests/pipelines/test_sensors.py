"""The sensors, evaluated against a real Dagster instance (SQLite storage in tmp_path)."""

from __future__ import annotations

import pytest
from dagster import (
    DagsterRun,
    DagsterRunStatus,
    RunRequest,
    SkipReason,
    build_sensor_context,
    instance_for_test,
)

from assets.ingest.discover import drop_fingerprint
from assets.partitions import DOMAINS
from assets.resources import BuildSettings
from pipelines.sensors import SENSORS, new_domain_sensor, release_after_domains


@pytest.fixture
def instance(tmp_path):
    """A Dagster instance with SQLite run, event and schedule storage in tmp_path."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    with instance_for_test(temp_dir=str(home)) as inst:
        yield inst


def _domain(root, name, files=("items.csv",), complete=True):
    folder = root / name
    folder.mkdir(parents=True)
    for f in files:
        (folder / f).write_text("item_id\n")
    if complete:
        (folder / "_SUCCESS").write_text("")
    return folder


def _evaluate_new_domains(instance, root, cursor=None):
    context = build_sensor_context(
        instance=instance, resources={"build": BuildSettings(logs_root=str(root))}, cursor=cursor
    )
    return new_domain_sensor(context)


def _keys(result):
    return [(r.partition_key, r.run_key) for r in result.run_requests]


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
    _run(instance, "build_domain", DagsterRunStatus.SUCCESS, "hotel")  # built by the CLI

    result = _evaluate_new_domains(instance, root)
    fingerprint = drop_fingerprint(root / "food")
    assert _keys(result) == [("food", f"domain:food:{fingerprint}")]
    assert result.run_requests[0].tags["recrm/trigger"] == "new domain"
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
    again = _evaluate_new_domains(instance, root, result.cursor)
    assert not again.run_requests and "no new domain" in again.skip_reason.skip_message


def test_new_domain_skips_missing_root(instance, tmp_path):
    result = _evaluate_new_domains(instance, tmp_path / "absent")
    assert isinstance(result, SkipReason) and "is not a folder" in result.skip_message


def _run(instance, job, status, domain=None):
    tags = {"dagster/partition": domain} if domain else {}
    run = DagsterRun(job_name=job, status=status, tags=tags)
    instance.add_run(run)
    return run.run_id


def _release(instance, logs_root="/nonexistent-logs"):
    context = build_sensor_context(
        instance=instance, resources={"build": BuildSettings(logs_root=str(logs_root))}
    )
    return release_after_domains(context)


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
    from assets.resources import WarehouseResource
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


# --- real drops: complete folders only, rebuilt on change, retried after a failure -------------


def _tick(instance, root, cursor):
    """One sensor evaluation, its partition requests applied as the daemon does."""
    result = _evaluate_new_domains(instance, root, cursor)
    for request in result.dynamic_partitions_requests:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return result


def _rewrite(path, text):
    import os

    path.write_text(text)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_half_copied_folder_is_not_built_until_its_marker_appears(instance, tmp_path):
    root = tmp_path / "logs"
    food = _domain(root, "food", files=("items.csv", "events.csv"), complete=False)

    first = _tick(instance, root, None)
    assert not first.run_requests and not first.dynamic_partitions_requests
    assert "no _SUCCESS yet: food" in first.skip_reason.skip_message
    assert instance.get_dynamic_partitions("domain") == []

    (food / "_SUCCESS").write_text("")
    second = _tick(instance, root, first.cursor)
    assert _keys(second) == [("food", f"domain:food:{drop_fingerprint(food)}")]
    assert instance.get_dynamic_partitions("domain") == ["food"]


def test_changed_files_in_a_known_domain_trigger_a_rebuild(instance, tmp_path):
    root = tmp_path / "logs"
    food = _domain(root, "food")
    first = _tick(instance, root, None)
    [built] = first.run_requests
    assert not _tick(instance, root, first.cursor).run_requests  # unchanged: nothing

    _rewrite(food / "items.csv", "item_id\nI1\n")
    changed = _tick(instance, root, first.cursor)
    [rebuild] = changed.run_requests
    assert rebuild.partition_key == "food" and rebuild.tags["recrm/trigger"] == "files changed"
    assert rebuild.run_key != built.run_key
    assert not changed.dynamic_partitions_requests  # already a partition

    (food / "events-2026-06.csv").write_text("event_id\n")  # a new file is a change too
    assert len(_tick(instance, root, changed.cursor).run_requests) == 1


def test_failed_domain_is_retried_on_its_next_change(instance, tmp_path):
    root = tmp_path / "logs"
    food = _domain(root, "food")
    first = _tick(instance, root, None)
    _run(instance, "build_domain", DagsterRunStatus.FAILURE, "food")
    # The same files again would fail again: no new request until the drop changes.
    same = _tick(instance, root, first.cursor)
    assert not same.run_requests

    _rewrite(food / "items.csv", "item_id\nfixed\n")
    retry = _tick(instance, root, same.cursor)
    assert [r.partition_key for r in retry.run_requests] == ["food"]
    assert retry.run_requests[0].run_key == f"domain:food:{drop_fingerprint(food)}"
    assert retry.run_requests[0].run_key != first.run_requests[0].run_key


def test_recopied_domain_is_rebuilt_once_its_marker_is_back(instance, tmp_path):
    """The usual re-drop: remove _SUCCESS, copy the files, write _SUCCESS last."""
    root = tmp_path / "logs"
    food = _domain(root, "food")
    first = _tick(instance, root, None)
    (food / "_SUCCESS").unlink()
    _rewrite(food / "items.csv", "item_id\nI1\nI2\n")
    during = _tick(instance, root, first.cursor)
    assert not during.run_requests and "no _SUCCESS yet: food" in during.skip_reason.skip_message
    (food / "_SUCCESS").write_text("")
    after = _tick(instance, root, during.cursor)
    assert [r.tags["recrm/trigger"] for r in after.run_requests] == ["files changed"]


def test_known_partition_never_built_is_built(instance, tmp_path):
    root = tmp_path / "logs"
    _domain(root, "food")
    instance.add_dynamic_partitions(DOMAINS.name, ["food"])
    result = _tick(instance, root, None)
    assert [r.tags["recrm/trigger"] for r in result.run_requests] == ["never built"]


def test_marker_is_neither_a_log_file_nor_ignored(tmp_path):
    from assets.ingest.discover import ignored_files, table_files
    from schemas.logs import CONTRACT_TABLES

    root = tmp_path / "logs"
    _domain(root, "food", files=("items.csv", "notes.txt"))
    ignored = ignored_files(root, "food", list(CONTRACT_TABLES))
    assert "_SUCCESS" not in ignored and "notes.txt" in ignored
    assert all(
        f.path.name != "_SUCCESS" for t in CONTRACT_TABLES for f in table_files(root, "food", t)
    )
    before = drop_fingerprint(root / "food")
    (root / "food" / "_SUCCESS").write_text("rewritten")  # the marker is not part of the drop
    assert drop_fingerprint(root / "food") == before


def test_sample_logs_are_complete_drops(instance):
    from pathlib import Path

    from pipelines.runner import discover_domains

    sample = Path(__file__).resolve().parents[2] / "sample_logs"
    domains = discover_domains(sample)
    assert domains
    result = _tick(instance, sample, None)
    assert sorted(r.partition_key for r in result.run_requests) == sorted(domains)


def test_release_counts_cli_builds_and_ignores_removed_domains(instance):
    """A real in-process run of a `build_domain` job, as `recrm build` launches it (tagged
    recrm/cli), counts; a stale partition blocks until `recrm domains remove` deletes it."""
    from dagster import Definitions, asset, define_asset_job

    from pipelines.runner import CLI_TAG

    @asset(partitions_def=DOMAINS)
    def tiny(context):
        return context.partition_key

    defs = Definitions(assets=[tiny], jobs=[define_asset_job("build_domain", selection=[tiny])])
    job = defs.resolve_job_def("build_domain")
    instance.add_dynamic_partitions(DOMAINS.name, ["food", "stale"])
    result = job.execute_in_process(instance=instance, partition_key="food", tags={CLI_TAG: "true"})
    assert result.success
    blocked = _release(instance)
    assert "stale has not been rebuilt" in blocked.skip_message
    assert "never been built" in blocked.skip_message
    assert "recrm domains remove stale" in blocked.skip_message

    instance.delete_dynamic_partition(DOMAINS.name, "stale")
    request = _release(instance)
    assert isinstance(request, RunRequest)
    assert request.run_key == f"release:food={result.run_id}"
    assert request.tags["recrm/domains"] == "food"


def test_removed_domain_whose_folder_stays_is_added_and_built_again(instance, tmp_path):
    root = tmp_path / "logs"
    _domain(root, "food")
    first = _tick(instance, root, None)
    _run(instance, "build_domain", DagsterRunStatus.SUCCESS, "food")
    instance.delete_dynamic_partition(DOMAINS.name, "food")  # `recrm domains remove food`

    again = _tick(instance, root, first.cursor)
    [request] = again.run_requests
    assert request.tags["recrm/trigger"] == "new domain"
    # A run key the sensor never used: Dagster does not skip the build as a duplicate.
    assert request.run_key != first.run_requests[0].run_key
    assert drop_fingerprint(root / "food") in request.run_key
    assert instance.get_dynamic_partitions("domain") == ["food"]


def _clicks_only_drop(root, name="shop"):
    """Items with titles, requests without a query, click and order events, no impressions, and
    sampled negatives asked for: behaviour and ranking only."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = root / name
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"item_id": ["a", "b", "c"], "title": ["x", "y", "z"]}),
                   folder / "items.parquet")  # fmt: skip
    pq.write_table(pa.table({"request_id": ["r1"], "user_id": ["u1"],
                             "ts": ["2026-05-01T10:00:00"]}), folder / "requests.parquet")  # fmt: skip
    pq.write_table(pa.table({"request_id": ["r1"], "user_id": ["u1"], "item_id": ["a"],
                             "ts": ["2026-05-01T10:01:00"], "event_type": ["click"]}),
                   folder / "events.parquet")  # fmt: skip
    (folder / "domain.toml").write_text("[negatives]\nper_request = 2\n")
    (folder / "_SUCCESS").write_text("")
    return folder


def test_sensor_runs_build_only_the_dimensions_the_drop_supports(instance, tmp_path, monkeypatch):
    monkeypatch.delenv("RECRM_LLM_BASE_URL", raising=False)
    root = tmp_path / "logs"
    _clicks_only_drop(root)
    result = _evaluate_new_domains(instance, root)
    (request,) = result.run_requests
    assert request.tags["recrm/dimensions"] == "behavior_prediction,item_ranking"
    groups = {k.path[0] for k in request.asset_selection}
    assert groups == {"ingest", "staging", "behavior_prediction", "item_ranking"}

    instance.add_dynamic_partitions(DOMAINS.name, ["shop"])
    _run(instance, "build_domain", DagsterRunStatus.SUCCESS, "shop")
    release = _release(instance, root)
    assert isinstance(release, RunRequest)
    assert release.tags["recrm/dimensions"] == "behavior_prediction,item_ranking"
    assert {"/".join(k.path) for k in release.asset_selection} == {
        "behavior_prediction/benchmark",
        "item_ranking/benchmark",
        "release",
    }


def test_sensor_ingests_a_drop_that_supports_no_dimension(instance, tmp_path):
    root = tmp_path / "logs"
    _domain(root, "catalog_only")  # items only
    (request,) = _evaluate_new_domains(instance, root).run_requests
    assert request.tags["recrm/dimensions"] == "none"
    assert {k.path[0] for k in request.asset_selection} == {"ingest", "staging"}


def test_sensor_builds_the_whole_job_for_a_full_drop(instance):
    from pathlib import Path

    root = Path(__file__).parents[2] / "sample_logs"
    result = _evaluate_new_domains(instance, root)
    assert result.run_requests
    assert all(r.asset_selection is None for r in result.run_requests)
    assert {r.tags["recrm/dimensions"] for r in result.run_requests} == {"all"}
