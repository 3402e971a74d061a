"""What the release's ecosystem files and `recrm publish` cost on a built release.

Prints, for RELEASE (a `releases/<version>` folder):
- the release's files and bytes;
- writing the ecosystem files again: the card's example instances (`example_rows`) and
  `croissant.json` (`write_croissant`, into a scratch copy of the manifest's folder);
- `recrm validate`'s checks alone (every publish runs them first);
- `publish_to` a `file://` folder, to moto's S3 server on 127.0.0.1 (a local stand-in: network
  and a real store's latency are not measured) and to a Hugging Face staging folder;
- mlcroissant reading every record of the smallest config.

Usage: .venv/bin/python benchmarks/bench_publish.py releases/<version>
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from assets.release.card import descriptions, example_rows  # noqa: E402
from assets.release.croissant import croissant_metadata  # noqa: E402
from assets.release.distribute import publish_to  # noqa: E402
from assets.release.manifest import read_manifest  # noqa: E402
from assets.release.validate import validate_release  # noqa: E402


def timed(label: str, fn, size: int | None = None):
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    rate = f", {size / 2**20 / seconds:,.0f} MiB/s" if size else ""
    print(f"{label:<48} {seconds:8.2f} s{rate}")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("release", type=Path)
    args = parser.parse_args()
    release = args.release.resolve()
    manifest = read_manifest(release)
    files = [p for p in release.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    print(
        f"release {manifest['version']}: {manifest['totals']['rows']:,} entries, "
        f"{len(files)} files, {size / 2**20:,.1f} MiB"
    )
    timed("card example instances (example_rows)", lambda: example_rows(release, manifest))
    timed("croissant.json metadata", lambda: croissant_metadata(manifest, release, descriptions()))
    problems = timed("validate (recrm validate's checks)", lambda: validate_release(release))
    if problems:
        print(f"the release is invalid: {problems[0]}")
        return 1
    with tempfile.TemporaryDirectory(prefix="bench-publish-") as tmp:
        tmp = Path(tmp)
        timed("publish file:// (validate + copy + rename)", lambda: publish_to(release, tmp.joinpath("mirror").as_uri()), size)  # fmt: skip
        timed("publish hf:// staging (validate + links)", lambda: publish_to(release, "hf://bench/recrm", staging=tmp / "stage"), size)  # fmt: skip

        import logging

        import boto3
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise

        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            os.environ.setdefault(name, "bench")
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        try:
            host, port = server.get_host_and_port()
            client = boto3.client("s3", endpoint_url=f"http://{host}:{port}")
            bucket = f"bench-{uuid.uuid4().hex[:8]}"
            client.create_bucket(Bucket=bucket)
            timed("publish s3:// to moto on 127.0.0.1 (validate + put)", lambda: publish_to(release, f"s3://{bucket}/r", s3_client=client), size)  # fmt: skip
        finally:
            server.stop()

    import mlcroissant as mlc

    smallest = min(manifest["dimensions"], key=lambda d: manifest["dimensions"][d]["rows"])
    rows = manifest["dimensions"][smallest]["rows"]
    dataset = mlc.Dataset(jsonld=str(release / "croissant.json"))
    timed(f"mlcroissant: {rows:,} records of {smallest}", lambda: sum(1 for _ in dataset.records(record_set=smallest)))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
