"""`recrm publish RELEASE --to URI`: copy a finished release to where its users read it.

The release is validated first (`recrm validate`'s checks: hashes, rows, schemas, card,
croissant.json); nothing is copied from an invalid one. Destinations:
- `s3://bucket/prefix`: objects under `prefix/<version>/` (AWS S3 or any S3-compatible store;
  the endpoint from `--endpoint-url` or boto3's own `AWS_ENDPOINT_URL`). Shards first, then the
  card and croissant.json, then `manifest.json`, then a `_SUCCESS` marker: a reader that waits
  for `_SUCCESS` (or the manifest) never sees a partial release. An existing release is
  replaced only with `overwrite`: its marker and manifest are deleted before anything is
  copied, and objects the new release lacks are deleted before its manifest is written.
- `file:///path`: copied into a temporary folder under /path, then renamed to
  `/path/<version>` (atomic on one file system), as `recrm build` publishes.
- `hf://user/name`: a staging folder in the layout `huggingface_hub.upload_folder` expects
  (the card at its root, config paths relative to it) and the command that uploads it. Nothing
  is sent over the network.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from assets.release.manifest import MANIFEST_FILE, read_manifest
from assets.release.publish import (
    ReleaseError,
    _move_into_place,
    _temporary_name,
    remove_orphaned_temporaries,
)
from assets.release.shards import file_sha256
from assets.release.validate import validate_release
from schemas.entries import DIMENSIONS, SPLITS

CARD_FILE = "README.md"
SUCCESS_MARKER = "_SUCCESS"
SCHEMES = ("s3", "file", "hf")


class PublishError(RuntimeError):
    pass


@dataclass
class Copied:
    """What `publish_to` did."""

    destination: str  # where the release now is (URI of its folder)
    version: str
    files: int
    bytes: int
    reused: bool = False  # the same release (same shards) was there already
    commands: list[str] = field(default_factory=list)  # hf: how to upload the staging folder


def release_files(release_dir: Path, manifest: dict) -> list[str]:
    """The release's files in the order a copy must write them: shards, then the files that
    describe them, the manifest last."""
    shards = [
        s["path"]
        for dim in DIMENSIONS
        for split in SPLITS
        for s in manifest["dimensions"].get(dim, {}).get("splits", {}).get(split, {}).get("shards")
        or []
    ]
    described = [m["path"] for m in manifest.get("metadata_files") or []]
    return [*shards, *described, CARD_FILE, MANIFEST_FILE]


def check_release(release_dir: Path) -> dict:
    release_dir = Path(release_dir)
    if not release_dir.is_dir():
        raise PublishError(f"{release_dir} is not a folder")
    problems = validate_release(release_dir)
    if problems:
        raise PublishError(
            f"release {release_dir} is invalid ({len(problems)} problem(s)), nothing was copied: "
            f"{problems[0]}"
        )
    return read_manifest(release_dir)


def parse_destination(uri: str) -> tuple[str, str, str]:
    """(scheme, location, path) of `s3://bucket/prefix`, `file:///path` or `hf://user/name`."""
    parsed = urlparse(uri)
    if parsed.scheme not in SCHEMES:
        raise PublishError(
            f"unsupported destination {uri!r}: use s3://bucket/prefix, file:///path or "
            "hf://user/name"
        )
    path = unquote(parsed.path)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost") or not path.startswith("/"):
            raise PublishError(f"{uri!r}: a file destination is file:///absolute/path")
        return "file", "", path
    if not parsed.netloc:
        raise PublishError(f"{uri!r} names no {'bucket' if parsed.scheme == 's3' else 'user'}")
    if parsed.scheme == "hf":
        name = path.strip("/")
        if not name or "/" in name:
            raise PublishError(f"{uri!r}: a hub destination is hf://user/name")
    return parsed.scheme, parsed.netloc, path.strip("/")


def publish_to(
    release_dir: Path,
    uri: str,
    *,
    overwrite: bool = False,
    s3_client=None,
    endpoint_url: str | None = None,
    staging: Path | None = None,
) -> Copied:
    """Validate the release in `release_dir` and copy it to `uri` (see the module docstring)."""
    scheme, location, path = parse_destination(uri)
    release_dir = Path(release_dir)
    manifest = check_release(release_dir)
    files = release_files(release_dir, manifest)
    if scheme == "s3":
        client = s3_client or _s3_client(endpoint_url)
        return _to_s3(client, location, path, release_dir, manifest, files, overwrite)
    if scheme == "file":
        return _to_folder(Path(path), release_dir, manifest, files, overwrite)
    return _to_hub_staging(f"{location}/{path}", release_dir, manifest, files, staging, overwrite)


def _s3_client(endpoint_url: str | None):
    import boto3

    return boto3.client("s3", endpoint_url=endpoint_url) if endpoint_url else boto3.client("s3")


def _keys_under(client, bucket: str, prefix: str) -> list[str]:
    keys = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [obj["Key"] for obj in page.get("Contents", [])]
    return keys


def _to_s3(client, bucket, prefix, release_dir, manifest, files, overwrite) -> Copied:
    version = manifest["version"]
    base = f"{prefix}/{version}" if prefix else version
    destination = f"s3://{bucket}/{base}"
    existing = set(_keys_under(client, bucket, base + "/"))
    if existing and not overwrite:
        if _marker(client, bucket, base).get("manifest_sha256") == file_sha256(
            release_dir / MANIFEST_FILE
        ):  # this very release, complete: nothing to do
            return Copied(destination, version, len(files), 0, reused=True)
        raise PublishError(
            f"another release or an incomplete copy is at {destination}; use --overwrite to "
            "replace it"
        )
    # Readers of the old release stop seeing a complete one before any of its files change.
    for name in (SUCCESS_MARKER, MANIFEST_FILE):
        if f"{base}/{name}" in existing:
            client.delete_object(Bucket=bucket, Key=f"{base}/{name}")
    written: list[str] = []
    total = 0
    try:
        for rel in files:
            if rel == MANIFEST_FILE:
                stale = existing - {f"{base}/{f}" for f in files} - {f"{base}/{SUCCESS_MARKER}"}
                for key in sorted(stale):
                    client.delete_object(Bucket=bucket, Key=key)
            total += _put(client, bucket, f"{base}/{rel}", release_dir / rel)
            written.append(f"{base}/{rel}")
        marker = {
            "version": version,
            "manifest_sha256": file_sha256(release_dir / MANIFEST_FILE),
            "files": len(files),
            "bytes": total,
        }
        client.put_object(
            Bucket=bucket,
            Key=f"{base}/{SUCCESS_MARKER}",
            Body=(json.dumps(marker, sort_keys=True) + "\n").encode("utf-8"),
            ContentType="application/json",
        )
    except Exception:
        if not existing:  # a new release: leave nothing of it behind
            for key in written:
                # best effort: without a manifest and marker no reader uses them
                with contextlib.suppress(Exception):
                    client.delete_object(Bucket=bucket, Key=key)
        raise
    return Copied(destination, version, len(files), total)


def _marker(client, bucket: str, base: str) -> dict:
    """The `_SUCCESS` marker of a complete release under `base` ({} if there is none)."""
    try:
        body = client.get_object(Bucket=bucket, Key=f"{base}/{SUCCESS_MARKER}")["Body"].read()
        return json.loads(body)
    except Exception:  # no marker (NoSuchKey) or not ours: not a complete release
        return {}


def _put(client, bucket: str, key: str, path: Path) -> int:
    """Upload one file and check the store holds all of its bytes."""
    size = path.stat().st_size
    client.upload_file(
        str(path), bucket, key, ExtraArgs={"Metadata": {"sha256": file_sha256(path)}}
    )
    stored = client.head_object(Bucket=bucket, Key=key)["ContentLength"]
    if stored != size:
        raise PublishError(f"s3://{bucket}/{key}: stored {stored} bytes of {size}")
    return size


def _copy_files(
    release_dir: Path, files: list[str], target: Path, copy: Callable[[Path, Path], object]
) -> int:
    total = 0
    for rel in files:
        source, out = release_dir / rel, target / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        copy(source, out)
        if file_sha256(out) != file_sha256(source):
            raise PublishError(f"{out}: the copy differs from {source}")
        total += out.stat().st_size
    return total


def _to_folder(root: Path, release_dir, manifest, files, overwrite) -> Copied:
    root.mkdir(parents=True, exist_ok=True)
    remove_orphaned_temporaries(root)
    tmp = root / _temporary_name()
    try:
        tmp.mkdir()
        total = _copy_files(release_dir, files, tmp, shutil.copyfile)
        try:
            placed = _move_into_place(tmp, root / manifest["version"], manifest, overwrite)
        except ReleaseError as exc:
            raise PublishError(str(exc).replace("overwrite_release (recrm build --overwrite)",
                                                "--overwrite")) from exc  # fmt: skip
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return Copied(placed.path.as_uri(), manifest["version"], len(files), total, placed.reused)


def _link_or_copy(source: Path, out: Path) -> None:
    try:
        os.link(source, out)  # same file system: no second copy of the shards
    except OSError:
        shutil.copyfile(source, out)


def _to_hub_staging(repo_id, release_dir, manifest, files, staging, overwrite) -> Copied:
    version = manifest["version"]
    folder = Path(staging) if staging else Path("hf-staging") / repo_id.replace("/", "__")
    folder = folder / version
    if folder.exists():
        if not overwrite:
            raise PublishError(f"{folder} exists; use --overwrite to stage {version} again")
        shutil.rmtree(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.parent / _temporary_name()
    try:
        tmp.mkdir()
        total = _copy_files(release_dir, files, tmp, _link_or_copy)
        os.rename(tmp, folder)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    message = f"RecRM-Bench release {version}"
    here = shlex.quote(str(folder))
    call = (
        f"HfApi().upload_folder(folder_path={json.dumps(str(folder))}, "
        f'repo_id={json.dumps(repo_id)}, repo_type="dataset", '
        f"commit_message={json.dumps(message)})"
    )
    commands = [
        f"hf upload {shlex.quote(repo_id)} {here} . --repo-type dataset "
        f"--commit-message {shlex.quote(message)}",
        "python -c " + shlex.quote(f"from huggingface_hub import HfApi; {call}"),
    ]
    return Copied(folder.resolve().as_uri(), version, len(files), total, commands=commands)
