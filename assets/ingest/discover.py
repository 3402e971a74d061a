"""Which files of a domain folder hold a contract table, in what format.

A table may be split over several files (`events.parquet`, `events-2026-05.csv.gz`, ...): a file
belongs to table `t` when its name starts with `t.` or `t-` and ends with a supported suffix. The
order is the file-name order, which is also the "file order" duplicate keys are resolved by.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from schemas.logs import FILE_SUFFIXES


class IngestError(RuntimeError):
    """A drop that cannot be ingested at all; the message names the folder or file."""


@dataclass(frozen=True)
class LogFile:
    path: Path
    relpath: str  # relative to the log root: `<domain>/<file>`, what the warehouse records
    format: str  # "parquet" | "csv" | "jsonl"
    gzip: bool


def file_format(path: Path) -> tuple[str, bool]:
    """(format, gzip-compressed) of a log file from its name."""
    name = path.name.lower()
    compressed = name.endswith(".gz")
    if compressed:
        name = name[: -len(".gz")]
    if name.endswith(".parquet"):
        if compressed:
            raise IngestError(f"{path}: gzip-compressed Parquet is not supported")
        return "parquet", False
    if name.endswith(".csv"):
        return "csv", compressed
    if name.endswith((".jsonl", ".json")):
        return "jsonl", compressed
    raise IngestError(f"{path}: unsupported file type (expected one of {', '.join(FILE_SUFFIXES)})")


def table_files(logs_root: Path, domain: str, table: str) -> list[LogFile]:
    """The files of `table` in `<logs_root>/<domain>/`, sorted by name."""
    folder = logs_root / domain
    if not folder.is_dir():
        raise IngestError(f"no log folder for domain {domain!r}: {folder} is not a folder")
    found = []
    for path in sorted(folder.iterdir()):
        name = path.name
        if not path.is_file() or not name.startswith((f"{table}.", f"{table}-")):
            continue
        if not name.lower().endswith(FILE_SUFFIXES):
            continue
        fmt, compressed = file_format(path)
        found.append(LogFile(path, f"{domain}/{name}", fmt, compressed))
    return found


def sha256_file(path: Path, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()
