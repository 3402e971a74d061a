"""`recrm publish RELEASE --to URI`: validate a release, then copy it to object storage (S3 API),
another folder, or a staging folder ready for a Hugging Face dataset upload."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "publish",
        help="validate a release and copy it to s3://, file:// or stage it for hf://",
        description="Validate RELEASE (as `recrm validate`) and copy it to URI: "
        "s3://bucket/prefix (objects under prefix/<version>/, shards first, manifest and a "
        "_SUCCESS marker last), file:///path (atomic rename into /path/<version>), or "
        "hf://user/name (a staging folder ready for huggingface_hub's upload_folder; the "
        "command that uploads it is printed, nothing is sent).",
    )
    p.add_argument("release_dir", type=Path, metavar="RELEASE", help="releases/<version>")
    p.add_argument("--to", required=True, metavar="URI", dest="to", help="destination URI")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace a release of the same version at the destination (default: refuse)",
    )
    p.add_argument(
        "--endpoint-url",
        metavar="URL",
        help="S3-compatible endpoint (default: AWS, or boto3's AWS_ENDPOINT_URL)",
    )
    p.add_argument(
        "--staging",
        type=Path,
        metavar="DIR",
        help="hf://: where to stage the upload (default: hf-staging/<user>__<name>)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from assets.release.distribute import publish_to
    from pipelines.cli.common import console

    copied = publish_to(
        args.release_dir,
        args.to,
        overwrite=args.overwrite,
        endpoint_url=args.endpoint_url,
        staging=args.staging,
    )
    what = "already there (identical shards)" if copied.reused else "published"
    console.print(
        f"release {copied.version} {what}: {copied.destination} "
        f"({copied.files} files, {copied.bytes / 2**20:,.1f} MiB)",
        markup=False,
        highlight=False,
    )
    if copied.commands:
        console.print("upload it with either of:", markup=False)
        for command in copied.commands:
            console.print("  " + command, markup=False, highlight=False, soft_wrap=True)
    return 0
