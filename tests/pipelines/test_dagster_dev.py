"""The real `dagster dev` loads the code location from the repository root and serves GraphQL."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from schemas.logs import CONTRACT_TABLES

REPO = Path(__file__).resolve().parents[2]
QUERY = """
{
  assetNodes { assetKey { path } groupName isPartitioned }
  repositoriesOrError {
    ... on RepositoryConnection { nodes { sensors { name } schedules { name cronSchedule } } }
  }
}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


@pytest.mark.slow
def test_dagster_dev_serves_ingest_assets(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(
        f"telemetry:\n  enabled: false\nstorage:\n  sqlite:\n    base_dir: {home}/storage\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECRM_")}
    env.update(DAGSTER_HOME=str(home), RECRM_WAREHOUSE=str(tmp_path / "wh.duckdb"))
    port = _free_port()
    dagster = Path(sys.executable).parent / "dagster"
    log = tmp_path / "dagster.log"
    with log.open("wb") as log_fh:
        proc = subprocess.Popen(
            [str(dagster), "dev", "-h", "127.0.0.1", "-p", str(port)],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log_fh,
            start_new_session=True,  # its own process group: killed as a whole below
        )
    try:
        deadline = time.monotonic() + 180
        data = None
        while time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()[-3000:]
            try:
                data = _graphql(port, QUERY)["data"]
                if data["assetNodes"]:
                    break
            except (urllib.error.URLError, ConnectionError, KeyError, TypeError):
                pass
            time.sleep(1)
        assert data and data["assetNodes"], "dagster dev did not serve the code location in time"
        ingest = {
            n["assetKey"]["path"][1]: n
            for n in data["assetNodes"]
            if n["assetKey"]["path"][0] == "ingest"
        }
        assert set(ingest) == {*CONTRACT_TABLES, "domain_settings"}
        assert all(n["groupName"] == "ingest" and n["isPartitioned"] for n in ingest.values())
        [repo] = data["repositoriesOrError"]["nodes"]
        assert {"new_domain_sensor", "release_after_domains"} <= {
            s["name"] for s in repo["sensors"]
        }
        assert {"name": "weekly_rebuild", "cronSchedule": "0 3 * * 1"} in repo["schedules"]
    finally:
        # Ctrl-C, as a user stops it: `dagster dev` then stops its webserver, daemon and code
        # server and removes the workspace file and sockets it made in the temp folder.
        proc.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=30)
        _stop_group(proc.pid)


def _stop_group(pgid: int, grace: float = 15.0) -> None:
    """Wait for every process of the group to end; kill what is left after `grace` seconds."""
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
