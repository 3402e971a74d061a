"""`recrm validate RELEASE_DIR`: re-check a published release against its manifest."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser("validate", help="re-check a release against its manifest")
    p.add_argument("release_dir", type=Path, help="releases/<version>")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from assets.release.validate import run_validate  # owned by the release layer

    return run_validate(args)
