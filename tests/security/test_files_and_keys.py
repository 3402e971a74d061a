"""Attack: a world-readable store (the default storage root, or a named DuckDB file) and run
storage, a reversible user-id hash, a build with the public key that nobody notices, and a killed
run that stays STARTED for good."""

from __future__ import annotations

import hashlib
import hmac
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import DagsterInstance, DagsterRunStatus
from dagster._core.launcher import WorkerStatus
from dagster._core.test_utils import create_run_for_test

from core.ids import USER_HASH_HEX_CHARS, keyed_hash
from core.warehouse import Warehouse
from pipelines.cli import main
from pipelines.launcher import PID_TAG, MonitoredRunLauncher
from pipelines.runner import mark_dead_runs_failed

from .conftest import KEY, make_domain

REPO = Path(__file__).parents[2]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project folder with the repository's dagster.yaml: the CLI uses its instance."""
    monkeypatch.chdir(tmp_path)
    for var in ("DAGSTER_HOME", "RECRM_CONFIG", "RECRM_ALLOW_DEV_KEY"):
        monkeypatch.delenv(var, raising=False)
    shutil.copy(REPO / "dagster.yaml", tmp_path / "dagster.yaml")
    make_domain(tmp_path / "logs")
    return tmp_path


def _assert_owner_only(folder: Path) -> None:
    assert _mode(folder) == 0o700, folder
    for path in folder.rglob("*"):
        assert _mode(path) == (0o700 if path.is_dir() else 0o600), path


def test_the_default_store_and_dagster_storage_are_owner_only(project, monkeypatch):
    """The default store is the storage root `data/tables`: its folders 0700, its Parquet files
    and catalog pointers 0600, and no DuckDB file is made beside it."""
    monkeypatch.setenv("RECRM_HASH_KEY", KEY)
    monkeypatch.delenv("RECRM_STORAGE_ROOT", raising=False)
    monkeypatch.delenv("RECRM_WAREHOUSE", raising=False)
    assert main(["ingest", "--logs", "logs"]) == 0
    data = project / "data"
    root = data / "tables"
    assert {p.parent.name for p in root.rglob("*.parquet")} and list(root.rglob("*.json"))
    assert not (data / "warehouse.duckdb").exists()
    assert not list(project.rglob("*.duckdb")), list(project.rglob("*.duckdb"))
    _assert_owner_only(data)  # the root, the spill folder, the validation results
    _assert_owner_only(project / ".dagster")


def test_a_named_warehouse_file_is_owner_only(project, monkeypatch):
    """Naming the file (and no root) selects the embedded DuckDB file: 0600 in a 0700 folder,
    and no storage root is made."""
    monkeypatch.setenv("RECRM_HASH_KEY", KEY)
    monkeypatch.delenv("RECRM_STORAGE_ROOT", raising=False)
    assert main(["ingest", "--logs", "logs", "--warehouse", "wh/warehouse.duckdb"]) == 0
    warehouse = project / "wh" / "warehouse.duckdb"
    assert _mode(warehouse) == 0o600
    assert _mode(warehouse.parent) == 0o700
    assert not (project / "data" / "tables").exists()
    _assert_owner_only(project / ".dagster")


def test_building_with_the_public_dev_key_needs_an_explicit_flag(project, monkeypatch, capsys):
    monkeypatch.delenv("RECRM_HASH_KEY", raising=False)
    assert main(["ingest", "--logs", "logs"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--allow-dev-key" in err and "Refused" not in err
    assert not (project / "data").exists()  # neither the root nor a file
    assert main(["ingest", "--logs", "logs", "--allow-dev-key"]) == 0
    assert "PUBLIC" in capsys.readouterr().out  # warned


@pytest.mark.parametrize("store", ["default root", "named file"])
def test_user_ids_are_hashed_with_hmac_sha256(project, monkeypatch, store):
    monkeypatch.setenv("RECRM_HASH_KEY", KEY)
    monkeypatch.delenv("RECRM_STORAGE_ROOT", raising=False)
    if store == "named file":
        assert main(["ingest", "--logs", "logs", "--warehouse", "w.duckdb"]) == 0
        warehouse = Warehouse(project / "w.duckdb")
    else:
        assert main(["ingest", "--logs", "logs"]) == 0
        warehouse = Warehouse(project / "data" / "warehouse.duckdb", project / "data" / "tables")
    hashes = set(warehouse.query("SELECT user_id_hash FROM raw_events")["user_id_hash"])
    want = {
        hmac.new(KEY.encode(), raw.encode(), hashlib.sha256).hexdigest()[:USER_HASH_HEX_CHARS]
        for raw in ("USR-7", "42")
    }
    assert hashes == want == {keyed_hash("USR-7", KEY), keyed_hash("42", KEY)}
    # Without the key, the old construction sha256(key || 0x1F || id) does not give them.
    assert hashlib.sha256(f"{KEY}\x1fUSR-7".encode()).hexdigest()[:32] not in hashes


def test_repository_instance_enables_run_monitoring_with_a_health_check(project):
    instance = DagsterInstance.from_config(str(project))
    try:
        assert instance.run_monitoring_enabled
        assert isinstance(instance.run_launcher, MonitoredRunLauncher)
        assert instance.run_launcher.supports_check_run_worker_health
    finally:
        instance.dispose()


def test_a_run_killed_with_9_is_marked_failed(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    proc.kill()
    proc.wait()
    with DagsterInstance.ephemeral() as instance:
        dead = create_run_for_test(
            instance,
            job_name="build_domain",
            tags={PID_TAG: str(proc.pid)},
            status=DagsterRunStatus.STARTED,
        )
        alive = create_run_for_test(
            instance,
            job_name="build_domain",
            tags={PID_TAG: str(__import__("os").getpid())},
            status=DagsterRunStatus.STARTED,
        )
        launcher = MonitoredRunLauncher()
        launcher.register_instance(instance)
        assert launcher.check_run_worker_health(dead).status == WorkerStatus.FAILED
        assert launcher.check_run_worker_health(alive).status == WorkerStatus.RUNNING
        assert mark_dead_runs_failed(instance) == [dead.run_id]
        assert instance.get_run_by_id(dead.run_id).status == DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(alive.run_id).status == DagsterRunStatus.STARTED
