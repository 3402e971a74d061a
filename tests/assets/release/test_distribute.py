"""`recrm publish`: a validated release copied to an S3-compatible store (moto's server on
127.0.0.1), to a folder (atomic rename) or to a Hugging Face staging folder."""

from __future__ import annotations

import json
import uuid

import pytest

from assets.release.distribute import (
    SUCCESS_MARKER,
    PublishError,
    parse_destination,
    publish_to,
)
from assets.release.publish import TMP_PREFIX, publish_release
from assets.release.shards import file_sha256
from assets.release.validate import validate_release
from core.settings import Settings


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_endpoint, monkeypatch):
    import boto3

    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    bucket = f"releases-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    return client, bucket


@pytest.fixture
def release(benchmark_warehouse, tmp_path):
    settings = Settings(
        warehouse_path=benchmark_warehouse.path,
        releases_dir=tmp_path / "releases",
        release_shard_rows=7,
    )
    return publish_release(benchmark_warehouse, settings)


def _keys(client, bucket, prefix=""):
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def _release_files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _record_puts(client) -> list[str]:
    keys: list[str] = []
    client.meta.events.register(
        "provide-client-params.s3.PutObject", lambda params, **_: keys.append(params["Key"])
    )
    return keys


def test_s3_copy_is_whole_and_writes_manifest_and_marker_last(s3, release, tmp_path):
    client, bucket = s3
    puts = _record_puts(client)
    copied = publish_to(release.path, f"s3://{bucket}/bench", s3_client=client)
    base = f"bench/{release.version}"
    assert copied.destination == f"s3://{bucket}/{base}" and not copied.reused
    files = _release_files(release.path)
    assert _keys(client, bucket) == sorted([f"{base}/{f}" for f in files] + [f"{base}/_SUCCESS"])
    names = [k.removeprefix(base + "/") for k in puts]
    assert names[-2:] == ["manifest.json", SUCCESS_MARKER]
    shards = [n for n in names if n.endswith(".parquet")]
    assert names[: len(shards)] == shards  # every shard before the card and croissant.json
    # the copy is the release: download it and validate it
    out = tmp_path / "downloaded"
    for f in files:
        (out / f).parent.mkdir(parents=True, exist_ok=True)
        client.download_file(bucket, f"{base}/{f}", str(out / f))
        assert file_sha256(out / f) == file_sha256(release.path / f)
    assert validate_release(out) == []
    marker = json.loads(client.get_object(Bucket=bucket, Key=f"{base}/_SUCCESS")["Body"].read())
    assert marker["version"] == release.version
    assert marker["manifest_sha256"] == file_sha256(release.path / "manifest.json")
    assert marker["files"] == len(files) == copied.files


def test_s3_refuses_another_release_unless_overwrite(s3, release):
    client, bucket = s3
    base = f"bench/{release.version}"
    uri = f"s3://{bucket}/bench"
    publish_to(release.path, uri, s3_client=client)
    # the same release again: nothing to do
    assert publish_to(release.path, uri, s3_client=client).reused
    # something else under that version (a stale object, another manifest): refused
    client.put_object(Bucket=bucket, Key=f"{base}/stale/old.parquet", Body=b"old")
    client.put_object(Bucket=bucket, Key=f"{base}/_SUCCESS", Body=b'{"manifest_sha256": "x"}')
    before = _keys(client, bucket)
    with pytest.raises(PublishError, match="--overwrite"):
        publish_to(release.path, uri, s3_client=client)
    assert _keys(client, bucket) == before
    copied = publish_to(release.path, uri, s3_client=client, overwrite=True)
    assert not copied.reused
    assert f"{base}/stale/old.parquet" not in _keys(client, bucket)  # deleted before the manifest
    marker = json.loads(client.get_object(Bucket=bucket, Key=f"{base}/_SUCCESS")["Body"].read())
    assert marker["manifest_sha256"] == file_sha256(release.path / "manifest.json")


def test_s3_failed_copy_leaves_no_readable_release(s3, release):
    client, bucket = s3
    calls = []

    def fail_on_fourth(params, **_):
        calls.append(params["Key"])
        if len(calls) == 4:
            raise ConnectionError("network dropped")

    client.meta.events.register("provide-client-params.s3.PutObject", fail_on_fourth)
    with pytest.raises(ConnectionError):
        publish_to(release.path, f"s3://{bucket}/bench", s3_client=client)
    assert _keys(client, bucket) == []  # the three shards copied were removed again


def test_invalid_release_is_not_copied(s3, release, tmp_path):
    client, bucket = s3
    shard = next((release.path / "item_ranking").glob("*.parquet"))
    shard.write_bytes(shard.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(PublishError, match="invalid.*nothing was copied.*sha256"):
        publish_to(release.path, f"s3://{bucket}/bench", s3_client=client)
    assert _keys(client, bucket) == []
    with pytest.raises(PublishError, match="invalid"):
        publish_to(release.path, (tmp_path / "mirror").as_uri())
    assert not (tmp_path / "mirror" / release.version).exists()


def test_file_destination_is_renamed_into_place(release, tmp_path):
    mirror = tmp_path / "mirror"
    copied = publish_to(release.path, mirror.as_uri())
    target = mirror / release.version
    assert copied.destination == target.as_uri()
    assert _release_files(target) == _release_files(release.path)
    assert validate_release(target) == []
    assert not [p for p in mirror.iterdir() if p.name.startswith(TMP_PREFIX)]
    assert publish_to(release.path, mirror.as_uri()).reused  # the same release: kept
    # another release under that version: refused, then replaced with overwrite
    manifest = json.loads((target / "manifest.json").read_text())
    manifest["dimensions"]["item_ranking"]["splits"]["train"]["shards"][0]["sha256"] = "0" * 64
    (target / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(PublishError, match="--overwrite"):
        publish_to(release.path, mirror.as_uri())
    publish_to(release.path, mirror.as_uri(), overwrite=True)
    assert validate_release(target) == []


def test_hf_staging_is_an_upload_folder_ready_dataset(release, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    import datasets
    from huggingface_hub import DatasetCard

    copied = publish_to(release.path, "hf://recrm/bench-rebuild", staging=tmp_path / "stage")
    folder = tmp_path / "stage" / release.version
    assert copied.destination == folder.resolve().as_uri()
    assert _release_files(folder) == _release_files(release.path)  # no marker, nothing hidden
    assert "recrm/bench-rebuild" in copied.commands[0] and str(folder) in copied.commands[0]
    assert "upload_folder(" in copied.commands[1] and 'repo_type="dataset"' in copied.commands[1]
    card = DatasetCard.load(folder / "README.md")
    for config in card.data.configs:
        for files in config["data_files"]:
            assert all((folder / p).is_file() for p in files["path"])
    ds = datasets.load_dataset(str(folder), "behavior_prediction", cache_dir=str(tmp_path / "hf"))
    assert ds["train"].features["label"].names == ["ignored", "clicked", "ordered"]
    with pytest.raises(PublishError, match="--overwrite"):
        publish_to(release.path, "hf://recrm/bench-rebuild", staging=tmp_path / "stage")


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("ftp://host/x", "unsupported destination"),
        ("s3:///prefix", "names no bucket"),
        ("hf://user", "hf://user/name"),
        ("hf://user/name/extra", "hf://user/name"),
        ("file://relative/path", "file:///absolute/path"),
    ],
)
def test_bad_destinations_are_named(uri, reason):
    with pytest.raises(PublishError, match=reason):
        parse_destination(uri)
