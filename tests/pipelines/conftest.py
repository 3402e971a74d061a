"""A small, clean two-domain log drop (Parquet in one domain, CSV.gz + JSONL in the other)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

ROWS = {  # table -> rows per domain
    "items": 3,
    "requests": 2,
    "impressions": 4,
    "events": 2,
}


def tables() -> dict[str, pa.Table]:
    return {
        "items": pa.table(
            {
                "item_id": ["I1", "I2", "I3"],
                "title": ["a", "b", "c"],
                "category": ["x", "x", "y"],
                "price": [1.0, 2.0, 3.5],
            }
        ),
        "requests": pa.table(
            {
                "request_id": ["R1", "R2"],
                "user_id": ["USR-1", "USR-2"],
                "ts": ["2026-05-01T10:00:00", "2026-05-01T11:00:00"],
                "query": ["q1", "q2"],
            }
        ),
        "impressions": pa.table(
            {
                "request_id": ["R1", "R1", "R2", "R2"],
                "item_id": ["I1", "I2", "I2", "I3"],
                "position": [1, 2, 1, 2],
            }
        ),
        "events": pa.table(
            {
                "request_id": ["R1", "R2"],
                "user_id": ["USR-1", "USR-2"],
                "item_id": ["I1", "I3"],
                "ts": ["2026-05-01T10:01:00", "2026-05-01T11:02:00"],
                "event_type": ["click", "order"],
            }
        ),
    }


def make_clean_drop(root: Path) -> Path:
    parquet, mixed = root / "books", root / "cinema"
    parquet.mkdir(parents=True)
    mixed.mkdir()
    for name, table in tables().items():
        pq.write_table(table, parquet / f"{name}.parquet")
        if name in ("items", "events"):
            sink = pa.BufferOutputStream()
            pacsv.write_csv(table, sink)
            (mixed / f"{name}.csv.gz").write_bytes(gzip.compress(sink.getvalue().to_pybytes()))
        else:
            lines = [json.dumps(r) for r in table.to_pylist()]
            (mixed / f"{name}.jsonl").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture
def clean_drop(tmp_path: Path) -> Path:
    return make_clean_drop(tmp_path / "logs")


@pytest.fixture
def rows_per_table() -> dict[str, int]:
    return dict(ROWS)


# --- a real `dagster dev` on 127.0.0.1, for tests of what the UI shows (GraphQL) ---------------


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(port: int, query: str, variables: dict | None = None) -> dict:
    """POST a query to the webserver's GraphQL API; returns `data` (errors fail the test)."""
    import urllib.request

    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        body = json.load(response)
    assert not body.get("errors"), body["errors"]
    return body["data"]


def _stop_group(pgid: int, grace: float = 15.0) -> None:
    """Wait for every process of the group to end; kill what is left after `grace` seconds."""
    import contextlib
    import os
    import signal
    import time

    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


@pytest.fixture
def dagster_dev():
    """`with dagster_dev(home, log) as query:` runs the real `dagster dev` from the repository
    root on DAGSTER_HOME=`home` until the block ends (Ctrl-C, then the process group is ended);
    `query(text, variables)` asks its GraphQL API and returns `data`."""
    import contextlib
    import os
    import signal
    import subprocess
    import sys
    import time
    import urllib.error

    repo = Path(__file__).resolve().parents[2]

    @contextlib.contextmanager
    def start(home: Path, log: Path, env_extra: dict | None = None):
        env = {k: v for k, v in os.environ.items() if not k.startswith("RECRM_")}
        env.update(DAGSTER_HOME=str(home), **(env_extra or {}))
        port = _free_port()
        dagster = Path(sys.executable).parent / "dagster"
        with log.open("wb") as log_fh:
            proc = subprocess.Popen(
                [str(dagster), "dev", "-h", "127.0.0.1", "-p", str(port)],
                cwd=repo,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log_fh,
                start_new_session=True,  # its own process group: ended as a whole below
            )
        try:
            deadline = time.monotonic() + 180
            while True:
                assert proc.poll() is None, log.read_text()[-3000:]
                assert time.monotonic() < deadline, "dagster dev did not serve the code location"
                try:
                    if graphql(port, "{ assetNodes { id } }")["assetNodes"]:
                        break
                except (urllib.error.URLError, ConnectionError, KeyError, TypeError):
                    pass
                time.sleep(1)
            yield lambda text, variables=None: graphql(port, text, variables)
        finally:
            # Ctrl-C, as a user stops it: `dagster dev` then stops its webserver, daemon and code
            # server and removes the workspace file and sockets it made in the temp folder.
            proc.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=30)
            _stop_group(proc.pid)

    return start
