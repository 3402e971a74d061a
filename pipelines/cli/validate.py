"""`recrm validate RELEASE_DIR [--expectations] [--data-docs DIR]`: re-check a published release.

Shard hashes, row counts, schemas, splits and dimensions against the manifest; the validity gate
(assets/checks/validity/gate.py); optionally the benchmark expectation suites on the shards
themselves, rendered as GX Data Docs HTML.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser("validate", help="re-check a release against its manifest")
    p.add_argument("release_dir", type=Path, help="releases/<version>")
    p.add_argument(
        "--expectations",
        action="store_true",
        help="also run the benchmark expectation suites (GX) on the shards",
    )
    p.add_argument(
        "--data-docs",
        type=Path,
        metavar="DIR",
        help="write GX Data Docs HTML of those suites to DIR (implies --expectations)",
    )
    p.add_argument(
        "--truth",
        type=Path,
        metavar="DIR",
        help="a drop's _truth folder for the relevance agreement (default: the manifest's log "
        "root's _truth, if any)",
    )
    p.add_argument(
        "--skip-validity",
        action="store_true",
        help="skip the validity gate (shortcut baselines, leak audit, relevance vs truth)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from assets.release.validate import run_validate  # owned by the release layer
    from core.settings import load_settings

    return run_validate(args, load_settings())
