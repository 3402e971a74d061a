"""Options several commands share, declared once (imports nothing heavy: `--help` stays fast)."""

from __future__ import annotations

from pathlib import Path

from core.defaults import EMBEDDED, describe_default


def add_store_options(p) -> None:
    """`--warehouse FILE` and `--storage-root ROOT`: which store the command's tables are in (the
    rule: `core.settings.Settings._choose_store`)."""
    p.add_argument(
        "--warehouse",
        type=Path,
        help="the embedded DuckDB file, used when named with no storage root; under a storage "
        f"root, the local base of spill files and validation results "
        f"({describe_default('warehouse_path')})",
    )
    p.add_argument(
        "--storage-root",
        help="tables as Parquet under a folder or s3://bucket/prefix, the default store; "
        f"{EMBEDDED!r}: the embedded DuckDB file ({describe_default('storage_root')}; "
        "unset when only a warehouse file is named)",
    )
