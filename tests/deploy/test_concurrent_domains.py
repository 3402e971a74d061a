"""Domain partitions built by concurrent runs in separate processes against a team instance
(PostgreSQL + S3 on 127.0.0.1) and a storage root in the bucket, then the release run over all
of them: the release's shards are byte for byte those of the embedded single-process build of
the same logs. And a domain run killed part-way (SIGKILL) leaves the other domains' tables and
the catalog whole."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from dagster import DagsterInstance, DagsterRunStatus

from assets.partitions import DOMAINS
from core.catalog import SWEEP_AFTER_ENV, Catalog
from core.storage import StorageRoot
from pipelines.definitions import defs
from pipelines.launcher import run_worker_pid
from tests.deploy.conftest import code_location_workspace

REPO = Path(__file__).resolve().parents[2]
DEPLOY_YAML = REPO / "deploy" / "dagster.yaml"
LOGS = REPO / "sample_logs"
DOMAIN_NAMES = ["food_delivery", "hotel", "movie_tickets"]
FINISHED = (DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED)

pytestmark = pytest.mark.slow


@pytest.fixture
def team(tmp_path, monkeypatch, postgres, s3_server):
    """deploy/dagster.yaml as an operator installs it, the environment pointing at the test
    servers, and the build's settings in the environment every run process inherits."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    config = yaml.safe_load(DEPLOY_YAML.read_text())
    assert config["concurrency"]["runs"]["max_concurrent_runs"] >= len(DOMAIN_NAMES)
    (home / "dagster.yaml").write_text(DEPLOY_YAML.read_text())
    for name, value in {**postgres.env(), **s3_server.env()}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("RECRM_LOGS_ROOT", str(LOGS))
    monkeypatch.setenv("RECRM_WAREHOUSE", str(tmp_path / "local" / "warehouse.duckdb"))
    monkeypatch.setenv("RECRM_RELEASES_DIR", str(tmp_path / "releases"))
    monkeypatch.delenv("RECRM_LLM_BASE_URL", raising=False)
    with DagsterInstance.from_config(str(home)) as instance:
        yield instance
        instance.wipe()


def _submit(instance, process_context, job: str, partition: str | None = None) -> str:
    workspace = process_context.create_request_context()
    location = workspace.get_code_location_entries()["recrm"].code_location
    remote_job = next(iter(location.get_repositories().values())).get_full_job(job)
    run = instance.create_run_for_job(
        job_def=defs.resolve_job_def(job),
        remote_job_origin=remote_job.get_remote_origin(),
        job_code_origin=remote_job.get_python_origin(),
        tags={"dagster/partition": partition} if partition else {},
    )
    instance.submit_run(run.run_id, workspace)
    return run.run_id


def _dequeue(process_context) -> None:
    from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import (
        QueuedRunCoordinatorDaemon,
    )

    daemon = QueuedRunCoordinatorDaemon(interval_seconds=1)
    try:
        list(daemon.run_iteration(process_context))
    finally:
        daemon._exit_stack.close()


def _wait(instance, run_ids: list[str], timeout: float = 1500) -> dict[str, DagsterRunStatus]:
    deadline = time.monotonic() + timeout
    while True:
        statuses = {r: instance.get_run_by_id(r).status for r in run_ids}
        if all(s in FINISHED for s in statuses.values()):
            return statuses
        assert time.monotonic() < deadline, f"runs still going: {statuses}"
        time.sleep(2)


def _failures(instance, run_ids) -> str:
    """The step failures of the runs, for an assertion's message."""
    from dagster import DagsterEventType

    lines = []
    for run_id in run_ids:
        records = instance.get_records_for_run(
            run_id, of_type={DagsterEventType.STEP_FAILURE, DagsterEventType.RUN_FAILURE}
        ).records
        for record in records:
            entry = record.event_log_entry
            lines.append(f"{run_id[:8]} {entry.step_key}: {entry.dagster_event.message}")
            error = getattr(entry.dagster_event.event_specific_data, "error", None)
            while error is not None:  # the message first: the stack's tail alone hides it
                lines.append(f"{error.cls_name}: {error.message.strip()[:1500]}")
                lines.append("".join(error.stack[-2:]))
                error = error.cause
    return "\n".join(lines)


def _embedded_build(folder: Path) -> subprocess.Popen:
    """`recrm build` of the same logs, embedded (one DuckDB file, one process, no servers)."""
    folder.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DAGSTER_HOME", "RECRM_STORAGE_ROOT", "RECRM_WAREHOUSE", "RECRM_RELEASES_DIR")
    }
    command = [str(Path(sys.executable).parent / "recrm"), "build", "--logs", str(LOGS)]
    command += ["--warehouse", str(folder / "warehouse.duckdb"), "--out", str(folder / "releases")]
    log = open(folder / "build.log", "w")  # noqa: SIM115 (closed with the process)
    return subprocess.Popen(command, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)


def _shards(releases: Path) -> dict[str, str]:
    (release,) = [p for p in releases.iterdir() if p.is_dir() and not p.name.startswith(".")]
    return {
        str(p.relative_to(release)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(release.rglob("*.parquet"))
    }


def test_three_domains_built_by_concurrent_runs_then_one_release(
    team, s3_server, tmp_path, monkeypatch
):
    root = f"s3://{s3_server.bucket}/tables/{tmp_path.name}"
    monkeypatch.setenv("RECRM_STORAGE_ROOT", root)
    embedded = _embedded_build(tmp_path / "embedded")
    team.add_dynamic_partitions(DOMAINS.name, DOMAIN_NAMES)
    with code_location_workspace(team) as process_context:
        runs = [_submit(team, process_context, "build_domain", d) for d in DOMAIN_NAMES]
        _dequeue(process_context)  # the queue launches all three at once
        launched = {r: team.get_run_by_id(r).status for r in runs}
        assert DagsterRunStatus.QUEUED not in launched.values(), launched
        statuses = _wait(team, runs)
        assert set(statuses.values()) == {DagsterRunStatus.SUCCESS}, _failures(team, runs)
        release_run = _submit(team, process_context, "publish_release")
        _dequeue(process_context)
        status = _wait(team, [release_run])
        assert status == {release_run: DagsterRunStatus.SUCCESS}, _failures(team, [release_run])

    # Separate processes whose runs overlapped in time.
    pids = {run_worker_pid(team, team.get_run_by_id(r)) for r in runs}
    assert None not in pids and len(pids) == 3 and os.getpid() not in pids
    records = [team.get_run_record_by_id(r) for r in runs]
    assert max(r.start_time for r in records) < min(r.end_time for r in records)

    # Every table in the bucket, listed by the catalog: each domain's partitions.
    catalog = Catalog(StorageRoot.open(root))
    domains_of = {}
    for entry in catalog.entries():
        domains_of.setdefault(entry.table, set()).add(entry.partition)
    assert domains_of["raw_items"] == set(DOMAIN_NAMES)
    assert domains_of["benchmark_item_ranking"] == {"_all"}
    assert not (tmp_path / "local" / "warehouse.duckdb").exists()  # no DuckDB file anywhere

    assert embedded.wait(timeout=1500) == 0, (tmp_path / "embedded" / "build.log").read_text()
    concurrent = _shards(tmp_path / "releases")
    assert len(concurrent) >= 5
    assert concurrent == _shards(tmp_path / "embedded" / "releases")


def test_a_killed_domain_run_leaves_the_other_domains_and_the_catalog_whole(
    team, tmp_path, monkeypatch
):
    others = ("hotel", "movie_tickets")
    root = tmp_path / "tables"  # a local storage root: the same code path as the bucket's
    monkeypatch.setenv("RECRM_STORAGE_ROOT", str(root))
    # The runs keep the default grace period before replaced folders go: the two concurrent
    # domain runs read each other's partitions of shared tables (ingest_files) while they write.
    monkeypatch.delenv(SWEEP_AFTER_ENV, raising=False)
    team.add_dynamic_partitions(DOMAINS.name, DOMAIN_NAMES)
    catalog = Catalog(StorageRoot.open(root))
    with code_location_workspace(team) as process_context:
        first = [
            _submit(team, process_context, "ingest_domain", d) for d in ("hotel", "movie_tickets")
        ]
        _dequeue(process_context)
        assert set(_wait(team, first).values()) == {DagsterRunStatus.SUCCESS}, _failures(
            team, first
        )
        before = _snapshot(root, others)
        assert len(before) > 20

        victim = _submit(team, process_context, "build_domain", "food_delivery")
        _dequeue(process_context)
        # Kill it part-way: once some of its tables are catalogued, while it writes others.
        deadline = time.monotonic() + 600
        while len([e for e in catalog.entries() if e.partition == "food_delivery"]) < 6:
            assert team.get_run_by_id(victim).status not in FINISHED
            assert time.monotonic() < deadline
            time.sleep(0.2)
        pid = run_worker_pid(team, team.get_run_by_id(victim))
        os.kill(pid, signal.SIGKILL)
        _wait_gone(pid)
        assert _snapshot(root, others) == before
        _assert_complete(catalog)

        again = _submit(team, process_context, "build_domain", "food_delivery")
        # Run monitoring marks the killed run failed; the per-domain limit frees then.
        team.report_run_failed(team.get_run_by_id(victim))
        _dequeue(process_context)
        assert _wait(team, [again]) == {again: DagsterRunStatus.SUCCESS}, _failures(team, [again])
    assert _snapshot(root, others) == before
    _assert_complete(catalog)
    # Past the grace period, the sweep a write runs leaves only the catalogued write of each
    # food_delivery partition on disk: the killed run's folders go.
    monkeypatch.setenv(SWEEP_AFTER_ENV, "0")
    for entry in catalog.entries():
        if entry.partition == "food_delivery" and entry.view is None:
            catalog.sweep(entry.table, entry.partition, keep=entry.write_id)
    for entry in catalog.entries():
        if entry.partition == "food_delivery" and entry.view is None:
            folders = [p.name for p in (root / "tables" / entry.table / "food_delivery").iterdir()]
            assert folders == [entry.write_id]


def _snapshot(root: Path, domains: tuple[str, ...]) -> dict[str, str]:
    """sha256 of every file of `domains`' partitions under the root: pointers and data."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and any(d in p.parts or p.name == f"{d}.json" for d in domains)
    }


def _assert_complete(catalog: Catalog) -> None:
    """Every pointer names files that exist and hold the rows it says."""
    import duckdb

    con = duckdb.connect()
    for entry in catalog.entries():
        if entry.view is not None:
            continue
        files = ", ".join(f"'{u}'" for u in catalog.file_uris(entry))
        rows = con.execute(f"SELECT count(*) FROM read_parquet([{files}])").fetchone()[0]
        assert rows == entry.rows, entry


def _wait_gone(pid: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        try:  # our grandchild may be a zombie until its parent reaps it
            if Path(f"/proc/{pid}/status").read_text().find("State:\tZ") >= 0:
                return
        except FileNotFoundError:
            return
        time.sleep(0.2)
    raise AssertionError(f"process {pid} still alive after SIGKILL")
