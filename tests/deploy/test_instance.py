"""deploy/dagster.yaml as a real team instance: PostgreSQL storage, S3 compute logs, the queued
run coordinator's limits and the LLM concurrency pool, against servers on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance, DagsterRunStatus, materialize

from assets.ingest.assets import INGEST_ASSETS
from assets.llm.assets import LLM_POOL, generated_turns
from assets.partitions import DOMAINS
from assets.resources import BuildSettings, LLMResource
from pipelines.definitions import defs
from pipelines.resources import default_resources
from tests.deploy.conftest import code_location_workspace

REPO = Path(__file__).resolve().parents[2]
DEPLOY_YAML = REPO / "deploy" / "dagster.yaml"

pytestmark = pytest.mark.slow


@pytest.fixture
def team_instance(tmp_path, monkeypatch, postgres, s3_server):
    """A DagsterInstance loaded from deploy/dagster.yaml, with the environment pointing at the
    test servers (as an operator sets it)."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(DEPLOY_YAML, home / "dagster.yaml")
    for name, value in {**postgres.env(), **s3_server.env()}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with DagsterInstance.from_config(str(home)) as instance:
        yield instance
        instance.wipe()  # the session's database serves the next test clean


def test_instance_uses_postgres_s3_queue_and_pools(team_instance):
    from dagster._core.run_coordinator import QueuedRunCoordinator
    from dagster_aws.s3.compute_log_manager import S3ComputeLogManager
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage

    assert isinstance(team_instance.run_storage, PostgresRunStorage)
    assert isinstance(team_instance.event_log_storage, PostgresEventLogStorage)
    assert isinstance(team_instance.compute_log_manager, S3ComputeLogManager)
    assert isinstance(team_instance.run_coordinator, QueuedRunCoordinator)
    queue = team_instance.get_concurrency_config().run_queue_config
    assert queue.max_concurrent_runs == 4
    limits = {(t["key"], str(t.get("value"))): t["limit"] for t in queue.tag_concurrency_limits}
    assert limits[("dagster/partition", "{'applyLimitPerUniqueValue': True}")] == 1
    assert limits[("dagster/job_name", "publish_release")] == 1
    assert team_instance.get_concurrency_config().pool_config.default_pool_limit == 2


def test_domain_ingest_runs_on_postgres_with_logs_in_s3(
    team_instance, postgres, s3_server, tmp_path, monkeypatch
):
    """The project's ingest of one sample domain and the LLM-bound generator step (pool "llm")
    run through the team instance: the run, its materializations and the domain partition are
    rows in PostgreSQL, the steps' stdout/stderr objects in the bucket, and the pool's slots
    were claimed in the instance's database."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RECRM_LLM_BASE_URL", raising=False)
    for var in ("RECRM_STORAGE_ROOT", "RECRM_WAREHOUSE", "RECRM_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    # The code location's warehouse as configured by default: the storage root data/tables.
    warehouse = default_resources()["warehouse"]
    assert (warehouse.path, warehouse.storage_root) == ("data/warehouse.duckdb", "data/tables")
    team_instance.add_dynamic_partitions(DOMAINS.name, ["hotel"])
    result = materialize(
        [*INGEST_ASSETS, generated_turns],
        partition_key="hotel",
        instance=team_instance,
        resources={
            "warehouse": warehouse,
            "build": BuildSettings(logs_root=str(REPO / "sample_logs")),
            "llm": LLMResource(),
        },
    )
    assert result.success
    run_id = result.run_id
    # The tables are Parquet files catalogued under the root; no DuckDB file was made.
    assert (tmp_path / "data" / "tables" / "_catalog" / "raw_items" / "hotel.json").is_file()
    assert not list(tmp_path.rglob("*.duckdb"))

    # In PostgreSQL, read with SQL rather than through Dagster's own storage classes.
    rows = postgres.query(f"SELECT status FROM runs WHERE run_id = '{run_id}'")
    assert rows == [(DagsterRunStatus.SUCCESS.value,)]
    materialized = postgres.query(
        "SELECT DISTINCT asset_key FROM event_logs "
        f"WHERE run_id = '{run_id}' AND dagster_event_type = 'ASSET_MATERIALIZATION'"
    )
    expected = {a.key for a in INGEST_ASSETS} | {
        AssetKey(["instruction_following", "generated_turns"])
    }
    assert {AssetKey.from_db_string(r[0]) for r in materialized} == expected
    assert postgres.query(
        "SELECT partition FROM dynamic_partitions WHERE partitions_def_name = 'domain'"
    ) == [("hotel",)]

    # The pool: the unconfigured pool "llm" got default_limit slots, all free again.
    info = team_instance.event_log_storage.get_concurrency_info(LLM_POOL)
    assert info.slot_count == 2
    assert info.active_slot_count == 0 and info.pending_step_count == 0
    claimed = postgres.query(
        f"SELECT count(*) FROM concurrency_slots WHERE concurrency_key = '{LLM_POOL}'"
    )
    assert claimed == [(2,)]

    # Compute logs in the bucket, under the configured prefix, one set per step of the run.
    objects = s3_server.objects("compute-logs/")
    run_logs = {k: v for k, v in objects.items() if run_id in k}
    assert run_logs, f"no compute logs for run {run_id} in the bucket: {sorted(objects)}"
    stderr = b"".join(v for k, v in run_logs.items() if k.endswith(".err"))
    assert b"generated_turns" in stderr or b"ingest" in stderr


def test_submitted_run_waits_in_the_queue(team_instance, postgres):
    """A run of the code location's release job, submitted as the webserver submits it (from
    the code location loaded in a code server process), goes to the queue: QUEUED in
    PostgreSQL until the daemon dequeues it within the limits."""
    with code_location_workspace(team_instance) as process_context:
        workspace = process_context.create_request_context()
        entry = workspace.get_code_location_entries()["recrm"]
        assert entry.code_location is not None, entry.load_error
        repository = next(iter(entry.code_location.get_repositories().values()))
        remote_job = repository.get_full_job("publish_release")
        run = team_instance.create_run_for_job(
            job_def=defs.resolve_job_def("publish_release"),
            remote_job_origin=remote_job.get_remote_origin(),
            job_code_origin=remote_job.get_python_origin(),
        )
        submitted = team_instance.submit_run(run.run_id, workspace)
    assert submitted.status == DagsterRunStatus.QUEUED
    assert postgres.query(f"SELECT status FROM runs WHERE run_id = '{run.run_id}'") == [("QUEUED",)]


def _wait_finished(instance, run_id: str, timeout: float = 900) -> DagsterRunStatus:
    import time

    deadline = time.monotonic() + timeout
    while True:
        status = instance.get_run_by_id(run_id).status
        if status in (
            DagsterRunStatus.SUCCESS,
            DagsterRunStatus.FAILURE,
            DagsterRunStatus.CANCELED,
        ):
            return status
        assert time.monotonic() < deadline, f"run {run_id} still {status}"
        time.sleep(1)


def test_queue_launches_one_run_per_domain_at_a_time_in_their_own_processes(
    team_instance, postgres, s3_server, tmp_path, monkeypatch
):
    """Two ingest runs of one domain submitted to the queue: the daemon's dequeue step launches
    one (at most one run per domain partition: two would replace each other's rows), the run
    executes in a process of its own through the run launcher against PostgreSQL and S3, then
    the next is launched; both succeed and leave their compute logs in the bucket. (Runs of
    different domains run at once: tests/deploy/test_concurrent_domains.py.)"""
    from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import (
        QueuedRunCoordinatorDaemon,
    )

    monkeypatch.setenv("RECRM_LOGS_ROOT", str(REPO / "sample_logs"))
    monkeypatch.setenv("RECRM_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("RECRM_RELEASES_DIR", str(tmp_path / "releases"))
    domains = ["hotel", "hotel"]
    team_instance.add_dynamic_partitions(DOMAINS.name, ["hotel"])
    with code_location_workspace(team_instance) as process_context:
        workspace = process_context.create_request_context()
        location = workspace.get_code_location_entries()["recrm"].code_location
        remote_job = next(iter(location.get_repositories().values())).get_full_job("ingest_domain")
        run_ids = []
        for domain in domains:
            run = team_instance.create_run_for_job(
                job_def=defs.resolve_job_def("ingest_domain"),
                remote_job_origin=remote_job.get_remote_origin(),
                job_code_origin=remote_job.get_python_origin(),
                tags={"dagster/partition": domain},
            )
            team_instance.submit_run(run.run_id, workspace)
            run_ids.append(run.run_id)
        daemon = QueuedRunCoordinatorDaemon(interval_seconds=1)

        def dequeue() -> None:
            list(daemon.run_iteration(process_context))

        dequeue()
        statuses = [team_instance.get_run_by_id(r).status for r in run_ids]
        assert statuses.count(DagsterRunStatus.QUEUED) == 1, statuses
        first = next(
            r for r, s in zip(run_ids, statuses, strict=True) if s != DagsterRunStatus.QUEUED
        )
        second = next(r for r in run_ids if r != first)
        assert _wait_finished(team_instance, first) == DagsterRunStatus.SUCCESS
        dequeue()
        assert _wait_finished(team_instance, second) == DagsterRunStatus.SUCCESS
        daemon._exit_stack.close()

    for run_id in run_ids:
        assert team_instance.get_run_by_id(run_id).tags["dagster/partition"] in domains
        rows = postgres.query(f"SELECT status FROM runs WHERE run_id = '{run_id}'")
        assert rows == [("SUCCESS",)]
        logs = [k for k in s3_server.objects("compute-logs/") if run_id in k]
        assert logs, f"no compute logs for run {run_id}"
    # Each run in a process of its own: the launcher's engine event names the worker's pid.
    from pipelines.launcher import run_worker_pid

    pids = {run_worker_pid(team_instance, team_instance.get_run_by_id(r)) for r in run_ids}
    assert None not in pids and len(pids) == 2 and os.getpid() not in pids
