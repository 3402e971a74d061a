"""Real servers for the deploy tests, started on 127.0.0.1 by the fixtures themselves: a
throwaway PostgreSQL cluster (the Debian binaries: initdb, pg_ctl) and moto's S3 server.

Without the PostgreSQL binaries the tests that need them are skipped with the reason, except in
CI (`CI=true`), where they fail: CI's machine image has Debian's postgresql package
(docs/deploy.md says how to install it elsewhere).
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

PG_BINARIES = ("initdb", "pg_ctl", "postgres")
REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_bin_dir() -> Path | None:
    """Where initdb and pg_ctl are: on PATH, else Debian's /usr/lib/postgresql/<version>/bin
    (the newest), else None."""
    on_path = [shutil.which(name) for name in PG_BINARIES]
    if all(on_path):
        return Path(on_path[0]).resolve().parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if all((Path(folder) / name).is_file() for name in PG_BINARIES):
            return Path(folder)
    return None


@dataclass(frozen=True)
class Postgres:
    host: str
    port: int
    db_name: str
    username: str
    password: str

    def env(self) -> dict[str, str]:
        """The environment deploy/dagster.yaml reads the instance's database from."""
        return {
            "DAGSTER_PG_HOST": self.host,
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_DB": self.db_name,
            "DAGSTER_PG_USERNAME": self.username,
            "DAGSTER_PG_PASSWORD": self.password,
        }

    def query(self, sql: str) -> list[tuple]:
        import psycopg2

        with (
            psycopg2.connect(
                host=self.host,
                port=self.port,
                dbname=self.db_name,
                user=self.username,
                password=self.password,
            ) as con,
            con.cursor() as cur,
        ):
            cur.execute(sql)
            return cur.fetchall()


def _as_postgres_user() -> list[str]:
    """PostgreSQL refuses to run as root: as root, run its binaries as the `postgres` user the
    Debian package creates."""
    if os.geteuid() != 0:
        return []
    try:
        import pwd

        pwd.getpwnam("postgres")
    except KeyError:
        pytest.fail("running as root and there is no `postgres` user to run PostgreSQL as")
    return ["runuser", "-u", "postgres", "--"]


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        reason = (
            "PostgreSQL binaries (initdb, pg_ctl, postgres) not found on PATH or in "
            "/usr/lib/postgresql/*/bin: install Debian's postgresql package"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    prefix = _as_postgres_user()
    # A folder the postgres user can own (pytest's tmp folders are root's only, mode 0700).
    root = Path(tempfile.mkdtemp(prefix="recrm-pg-"))
    data = root / "data"
    pwfile = root / "pw"
    password = "deploy-test-" + os.urandom(8).hex()
    pwfile.write_text(password + "\n")
    if prefix:
        shutil.chown(root, "postgres", "postgres")
        shutil.chown(pwfile, "postgres", "postgres")
    pwfile.chmod(0o600)
    port = free_port()
    run = lambda *args: subprocess.run(  # noqa: E731
        [*prefix, *args], check=True, capture_output=True, text=True
    )
    run(
        str(bin_dir / "initdb"),
        "-D",
        str(data),
        "-U",
        "recrm",
        f"--pwfile={pwfile}",
        "--auth=scram-sha-256",
        "--encoding=UTF8",
        "--no-sync",
    )
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off"
    try:
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-o", options,
            "-w", "start")  # fmt: skip
    except subprocess.CalledProcessError as e:
        log = (root / "log").read_text() if (root / "log").exists() else ""
        pytest.fail(f"PostgreSQL did not start: {e.stderr}\n{log}")
    server = Postgres("127.0.0.1", port, "postgres", "recrm", password)
    try:
        yield server
    finally:
        subprocess.run(
            [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    bucket: str

    def env(self) -> dict[str, str]:
        return {
            "RECRM_S3_ENDPOINT_URL": self.endpoint_url,
            "RECRM_COMPUTE_LOGS_BUCKET": self.bucket,
            "RECRM_COMPUTE_LOGS_PREFIX": "compute-logs",
        }

    def client(self):
        return boto3.client("s3", endpoint_url=self.endpoint_url, region_name="us-east-1")

    def objects(self, prefix: str = "") -> dict[str, bytes]:
        client = self.client()
        keys = [
            o["Key"]
            for page in client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix
            )
            for o in page.get("Contents", [])
        ]
        return {k: client.get_object(Bucket=self.bucket, Key=k)["Body"].read() for k in keys}


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """moto's S3 server in a thread of this process, on 127.0.0.1 (test credentials)."""
    from moto.server import ThreadedMotoServer

    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    os.environ["AWS_ACCESS_KEY_ID"] = "deploy-test"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "deploy-test"
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        s3 = S3Server(f"http://127.0.0.1:{port}", "recrm-dagster")
        s3.client().create_bucket(Bucket=s3.bucket)
        yield s3
    finally:
        server.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _code_servers() -> set[int]:
    """This process's children that are Dagster code servers (`dagster api grpc`)."""
    found = set()
    for status in glob.glob("/proc/[0-9]*/status"):
        try:
            ppid = next(
                int(line.split()[1])
                for line in Path(status).read_text().splitlines()
                if line.startswith("PPid:")
            )
            cmdline = Path(status).with_name("cmdline").read_bytes()
        except (OSError, StopIteration, ValueError):
            continue
        if ppid == os.getpid() and b"dagster\x00api\x00grpc" in cmdline:
            found.add(int(Path(status).parent.name))
    return found


@contextmanager
def code_location_workspace(instance):
    """The code location (`pipelines.definitions`) loaded in a code server process, as the
    webserver and the daemon load it. On exit its code server is gone: a server that still
    tracks a run it launched (a killed one) would otherwise outlive the test, holding 400 MB."""
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import ModuleTarget

    before, started = _code_servers(), set()
    target = ModuleTarget("pipelines.definitions", None, str(REPO), "recrm")
    try:
        with WorkspaceProcessContext(instance, target) as process_context:
            started = _code_servers() - before
            yield process_context
    finally:
        deadline = time.monotonic() + 15  # the server's own shutdown, asked for on exit
        while (started & _code_servers()) and time.monotonic() < deadline:
            time.sleep(0.5)
        # A server stuck in its shutdown (one observed ignoring SIGTERM): SIGKILL after 5 s.
        for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 0)):
            for pid in started & _code_servers():
                os.kill(pid, sig)
            deadline = time.monotonic() + wait
            while (started & _code_servers()) and time.monotonic() < deadline:
                time.sleep(0.2)
        for pid in started:
            with suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
