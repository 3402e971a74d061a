"""Which files of a domain folder hold a contract table, in what format.

A table may be split over several files (`events.parquet`, `events-2026-05.csv.gz`, ...): a file
belongs to table `t` when its name starts with `t.` or `t-` and ends with a supported suffix. The
order is the file-name order, which is also the "file order" duplicate keys are resolved by.

A `_SUCCESS` file (`schemas.logs.COMPLETE_MARKER`) marks a domain folder as completely copied:
the new-domain sensor builds a folder only once it holds one, and rebuilds it when the
fingerprint of its other files (names, sizes, modification times) changes. Ingest never reads it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from core.paths import PathRefused, confined, domain_folder
from schemas.domain import DOMAIN_FILE
from schemas.logs import COMPLETE_MARKER, FILE_SUFFIXES


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


def _domain_folder(logs_root: Path, domain: str) -> Path:
    try:
        folder = domain_folder(logs_root, domain)
    except PathRefused as exc:
        raise IngestError(str(exc)) from exc
    if not folder.is_dir():
        raise IngestError(
            f"There is no log folder for domain {domain!r}: {folder} is not a folder."
        )
    return folder


def _is_table_file(name: str, table: str) -> bool:
    return name.startswith((f"{table}.", f"{table}-")) and name.lower().endswith(FILE_SUFFIXES)


def table_files(logs_root: Path, domain: str, table: str) -> list[LogFile]:
    """The files of `table` in `<logs_root>/<domain>/`, sorted by name. A file (or symbolic link)
    that resolves outside the log root is refused with an error naming it."""
    folder = _domain_folder(logs_root, domain)
    found = []
    for path in sorted(folder.iterdir()):
        name = path.name
        if not _is_table_file(name, table):
            continue
        try:
            confined(logs_root, path, what=f"log file {domain}/{name}")
        except PathRefused as exc:
            raise IngestError(str(exc)) from exc
        if not path.is_file():
            continue
        fmt, compressed = file_format(path)
        found.append(LogFile(path, f"{domain}/{name}", fmt, compressed))
    return found


def ignored_files(logs_root: Path, domain: str, tables: list[str]) -> dict[str, str]:
    """Every entry of the domain folder that ingest does not read -> why, so that nothing in a
    drop is left out without a word (`domain.toml` is read by its own asset)."""
    folder = _domain_folder(logs_root, domain)
    ignored = {}
    for path in sorted(folder.iterdir()):
        name = path.name
        if name in (DOMAIN_FILE, COMPLETE_MARKER):
            continue
        if path.is_dir():
            ignored[name] = "a sub-folder (only the domain folder's own files are read)"
        elif any(_is_table_file(name, t) for t in tables):
            continue
        elif any(name.startswith((f"{t}.", f"{t}-")) for t in tables):
            ignored[name] = f"unsupported file type (expected one of {', '.join(FILE_SUFFIXES)})"
        else:
            ignored[name] = (
                "the name matches no contract table (expected <table>.<suffix> or "
                f"<table>-<part>.<suffix>, lower case, tables: {', '.join(tables)})"
            )
    return ignored


def is_complete(folder: Path) -> bool:
    """Whether the domain folder holds the completion marker (its drop is fully copied)."""
    return (folder / COMPLETE_MARKER).is_file()


def drop_fingerprint(folder: Path) -> str:
    """A short hash of the folder's files (name, size, modification time in ns; sub-folders and
    the completion marker left out): it changes when any file is added, removed, rewritten or
    touched, without reading the files' contents."""
    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        if path.name == COMPLETE_MARKER or not path.is_file():
            continue
        try:
            stat = path.stat()
        except FileNotFoundError:  # removed while the folder was read: the next look sees it
            continue
        digest.update(f"{path.name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def sha256_file(path: Path, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()
