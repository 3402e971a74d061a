"""Fixtures shared by the test folders: what the warehouse file went through."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from core.warehouse import Warehouse

# Builds refuse the public development key unless told otherwise: tests use a key of their own
# (CI sets one too); tests of the dev-key opt-in unset it.
os.environ.setdefault("RECRM_HASH_KEY", "ci-test-key")


@pytest.fixture
def warehouse_opens(monkeypatch) -> list[bool]:
    """Filled as the test runs: one entry (its read_only flag) each time a DuckDB instance is
    started on a warehouse file."""
    opened: list[bool] = []
    real_open = Warehouse._open

    def counting_open(self, read_only):
        opened.append(read_only)
        return real_open(self, read_only)

    monkeypatch.setattr(Warehouse, "_open", counting_open)
    return opened


@pytest.fixture
def assert_file_released() -> Callable[[Path], None]:
    """Asserts that another process can open the DuckDB file read-write: nothing in this one
    holds it any more."""

    def check(path: Path) -> None:
        done = subprocess.run(
            [sys.executable, "-c", f"import duckdb; duckdb.connect({str(path)!r}).close()"],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr

    return check


REPO = Path(__file__).resolve().parent.parent


def build_sample_release(workdir: Path, out: Path, *extra: str) -> Path:
    """Run `recrm build` of sample_logs from `workdir` (a copy of the repo's dagster.yaml makes a
    real instance) on the default store, the storage root `workdir/data/tables` (`extra` may
    name a `--warehouse` file instead). Returns the release folder."""
    import shutil

    from pipelines.cli import main

    shutil.copy(REPO / "dagster.yaml", workdir / "dagster.yaml")
    with pytest.MonkeyPatch.context() as mp:
        for var in ("RECRM_STORAGE_ROOT", "RECRM_WAREHOUSE", "RECRM_CONFIG"):
            mp.delenv(var, raising=False)
        code = main(["build", "--logs", str(REPO / "sample_logs"), "--out", str(out), *extra])
    assert code == 0
    (release,) = [p for p in out.iterdir() if p.is_dir()]
    return release


def store_of(release: Path) -> Warehouse:
    """The store `build_sample_release` built `release` in: the default storage root under the
    build's folder (`<release>/../..`)."""
    work = release.parents[1]
    return Warehouse(work / "data" / "warehouse.duckdb", work / "data" / "tables")


@pytest.fixture(scope="session")
def sample_store(sample_release: Path) -> Warehouse:
    """The store the session's sample release was built in (the default storage root)."""
    return store_of(sample_release)


@pytest.fixture(scope="session")
def sample_release_builder() -> Callable[..., Path]:
    return build_sample_release


@pytest.fixture(scope="session")
def sample_release(tmp_path_factory) -> Path:
    """One release of sample_logs for the session, built on the default store (the storage root
    `<release>/../../data/tables`: the `sample_store` fixture)."""
    work = tmp_path_factory.mktemp("quickstart")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(work)
        return build_sample_release(work, work / "releases")


@pytest.fixture(autouse=True)
def _fresh_dagster_defs_state_storage():
    """Each test starts with no current Dagster defs-state storage. Entering a DagsterInstance
    sets it and leaving does not reset it (dagster 1.13); when the closed instance is then
    collected in another context, the setting stays, pointing at a dead instance, and the next
    `materialize` (which loads Definitions before opening its own instance) fails with
    "Attempted to resolve undefined DagsterInstance weakref". Seen when tests/pipelines (e.g.
    test_schedules' `instance_for_test`) ran before tests/assets/checks in one process."""
    from dagster._core.storage.defs_state.base import set_defs_state_storage

    with set_defs_state_storage(None):
        yield
