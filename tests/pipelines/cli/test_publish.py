"""`recrm publish RELEASE --to URI` from the command line: S3 through the endpoint flag (moto's
server on 127.0.0.1), the hub staging command printed, bad input as one line and exit 1."""

from __future__ import annotations

import importlib.util
import uuid
from pathlib import Path

import pytest

from assets.release.publish import publish_release
from core.settings import Settings
from pipelines.cli import main
from pipelines.cli.common import console

_FIXTURE = Path(__file__).resolve().parents[2] / "assets" / "release" / "benchmark_fixture.py"


@pytest.fixture
def release(tmp_path):
    spec = importlib.util.spec_from_file_location("recrm_cli_benchmark_fixture", _FIXTURE)
    fixture = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fixture)
    wh = fixture.build_benchmark_warehouse(tmp_path / "data" / "wh.duckdb")
    settings = Settings(warehouse_path=wh.path, releases_dir=tmp_path / "releases")
    return publish_release(wh, settings)


@pytest.fixture
def s3_endpoint(monkeypatch):
    from moto.server import ThreadedMotoServer

    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        monkeypatch.setenv(name, value)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def test_publish_to_s3_with_an_endpoint(release, s3_endpoint):
    import boto3

    client = boto3.client("s3", endpoint_url=s3_endpoint)
    bucket = f"b-{uuid.uuid4().hex[:10]}"
    client.create_bucket(Bucket=bucket)
    uri = f"s3://{bucket}/recrm"
    with console.capture() as out:
        code = main(["publish", str(release.path), "--to", uri, "--endpoint-url", s3_endpoint])
    assert code == 0
    assert f"release {release.version} published: s3://{bucket}/recrm/{release.version}" in (
        out.get()
    )
    keys = {o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]}
    assert f"recrm/{release.version}/_SUCCESS" in keys
    assert f"recrm/{release.version}/croissant.json" in keys
    # again: the same release is there, nothing copied; never replaced without --overwrite
    with console.capture() as out:
        assert main(["publish", str(release.path), "--to", uri, "--endpoint-url", s3_endpoint]) == 0
    assert "already there" in out.get()


def test_publish_to_hub_prints_the_upload_command(release, tmp_path):
    with console.capture() as out:
        code = main(
            [
                "publish",
                str(release.path),
                "--to",
                "hf://someone/recrm-rebuild",
                "--staging",
                str(tmp_path / "stage"),
            ]
        )
    assert code == 0
    text = out.get()
    assert "hf upload someone/recrm-rebuild" in text and "upload_folder(" in text
    assert (tmp_path / "stage" / release.version / "README.md").is_file()


def test_bad_destination_is_one_line_and_exit_1(release, capsys):
    assert main(["publish", str(release.path), "--to", "ftp://example/x"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("recrm publish: error: unsupported destination")
