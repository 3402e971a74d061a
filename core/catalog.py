"""The catalog of a storage root: which Parquet files make up each table partition right now.

One small JSON pointer per (table, partition) names the write that is in use:

    _catalog/<table>/<partition>.json  ->  {"files": ["tables/<table>/<partition>/<write>/part-00000.parquet", ...]}

`<partition>` is a domain name (`core.paths.check_domain`) or `_all` for a table that is not
partitioned. A write puts its files in a new folder `tables/<table>/<partition>/<write id>/`,
then replaces the pointer in one step (a rename locally, one PUT on S3), then removes the
partition's older folders. So:

- writers of different partitions never touch the same object: concurrent domain runs, in other
  processes or on other machines, need no lock;
- a reader sees the old write or the new one, never a part of either;
- a writer killed before its pointer leaves a folder nothing names: it is never read, and a
  later write of that partition removes it.

Replaced folders are not removed at once: a process that listed the catalog just before the
swap (another domain's run reading the whole table, the release run) may still be reading them.
A later write of the partition removes each folder nothing names once `RECRM_STORAGE_SWEEP_AFTER`
seconds (default 900) have passed since the write that replaced it (for an orphan: since it was
made). Write ids start with their UTC time, so the age needs no clock of the store.

An append-only table (the LLM response cache: answers are only ever added) has the pointer
`_catalog/<table>/_append.json` naming the folder `tables/<table>/_append/`, and every whole file
in that folder is part of the table: a batch is one more file, written whole (a rename locally,
one PUT on S3), so concurrent writers append without a lock and a killed one loses its last batch.
Compaction (`Warehouse.compact_appended`) merges the batches not yet merged into one file in
`tables/<table>/_compacted/<write id>/` and replaces the pointer with one that adds that file to
its `files` and names the batches it `covered` (with the time): the table is then the pointer's
files plus every batch in the folder that no merged file covers. A batch appended during a
compaction is not covered, so it is not lost; covered batches stay on the root for the grace
period below (a reader that listed the folder before may still read them), then a later
compaction removes them. Merged files are not merged again: one file per compaction.

A pointer may instead hold a view (`{"view": "SELECT ..."}`): a table defined over others, as
`judged_<dim>` over `entries_<dim>` when no LLM judges it.
Two writers of one partition at once are not supported (the last pointer wins, and its sweep
may remove the other's folder): the deployment's queue allows one run per domain partition.
"""

from __future__ import annotations

import json
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from core.paths import check_domain
from core.storage import StorageRoot, check_part

CATALOG = "_catalog"
TABLES = "tables"
WHOLE_TABLE = "_all"  # the partition of a table that is not partitioned by domain
APPEND = "_append"  # the partition of an append-only table: every file in its folder
COMPACTED = "_compacted"  # folder of an append-only table's merged files (one per compaction)
SWEEP_AFTER_ENV = "RECRM_STORAGE_SWEEP_AFTER"
DEFAULT_SWEEP_AFTER = 900.0  # seconds a replaced write stays readable
_STAMP = "%Y%m%dT%H%M%S"


def sweep_after() -> float:
    return float(os.environ.get(SWEEP_AFTER_ENV) or DEFAULT_SWEEP_AFTER)


def _written_at(write_id: str) -> float | None:
    """The UTC time a write id starts with (seconds since the epoch); None for other names."""
    try:
        return datetime.strptime(write_id.split("-", 1)[0], _STAMP).replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


def partition_key(domain: str | None) -> str:
    """The partition of `domain` (checked: it becomes a folder), `_all` for a whole table."""
    return WHOLE_TABLE if domain is None else check_domain(domain)


@dataclass(frozen=True)
class Entry:
    """One pointer: the files of a write (keys relative to the root), or a view's SQL."""

    table: str
    partition: str
    files: tuple[str, ...] = ()
    write_id: str | None = None
    rows: int | None = None
    view: str | None = None
    written_at: str = field(default="", compare=False)
    # Append-only: (merged file, when it was made current, the batch files merged into it).
    covered: tuple[tuple[str, str, tuple[str, ...]], ...] = ()

    def to_json(self) -> bytes:
        body = {"table": self.table, "partition": self.partition, "written_at": self.written_at}
        if self.view is not None:
            body["view"] = self.view
        else:
            body.update(write_id=self.write_id, rows=self.rows, files=list(self.files))
            if self.covered:
                body["covered"] = [
                    {"file": f, "at": at, "batches": list(b)} for f, at, b in self.covered
                ]
        return json.dumps(body, indent=1, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Entry:
        body = json.loads(data)
        return cls(
            table=body["table"],
            partition=body["partition"],
            files=tuple(body.get("files", ())),
            write_id=body.get("write_id"),
            rows=body.get("rows"),
            view=body.get("view"),
            written_at=body.get("written_at", ""),
            covered=tuple(
                (c["file"], c["at"], tuple(c["batches"])) for c in body.get("covered", ())
            ),
        )


class Catalog:
    def __init__(self, root: StorageRoot):
        self.root = root

    def _pointer(self, table: str, partition: str) -> str:
        return self.root.key(CATALOG, check_part(table, "table name"), f"{partition}.json")

    # -- reading -----------------------------------------------------------------------------
    def entries(self) -> list[Entry]:
        """Every pointer, sorted by (table, partition). One listing, then the pointers read
        (in parallel on S3, where each is a GET)."""
        paths = [p for p in self.root.list_files(self.root.key(CATALOG)) if p.endswith(".json")]
        if self.root.local or len(paths) < 4:
            blobs = [self.root.read(p) for p in paths]
        else:
            with ThreadPoolExecutor(max_workers=16) as pool:
                blobs = list(pool.map(self.root.read, paths))
        found = [Entry.from_json(b) for b in blobs if b is not None]
        return sorted(found, key=lambda e: (e.table, e.partition))

    def get(self, table: str, partition: str) -> Entry | None:
        data = self.root.read(self._pointer(table, partition))
        return Entry.from_json(data) if data is not None else None

    def partitions(self, table: str) -> list[str]:
        folder = self.root.key(CATALOG, check_part(table, "table name"))
        return [
            p.rsplit("/", 1)[1][: -len(".json")]
            for p in self.root.list_files(folder)
            if p.endswith(".json")
        ]

    def file_uris(self, entry: Entry) -> list[str]:
        if entry.partition == APPEND:  # merged files, then every batch they do not cover
            return [
                self.root.uri(self.root.resolve(f)) for f in (*entry.files, *self.batches(entry))
            ]
        return [self.root.uri(self.root.resolve(f)) for f in entry.files]

    def batches(self, entry: Entry) -> list[str]:
        """Keys of the append-only table's batch files the pointer `entry` does not cover
        (listed now)."""
        folder = self.root.key(TABLES, check_part(entry.table, "table name"), APPEND)
        covered = {k for _, _, batches in entry.covered for k in batches}
        keys = (self.root.relative(p) for p in self.root.list_files(folder))
        return [k for k in keys if k not in covered]

    def append_file(self, table: str) -> str:
        """The fs path of a new file of the append-only `table` (`appended` after writing it)."""
        stamp = datetime.now(UTC).strftime(_STAMP)
        folder = self.root.key(TABLES, check_part(table, "table name"), APPEND)
        self.root.make_dirs(folder)
        return f"{folder}/{stamp}-{uuid.uuid4().hex[:12]}.parquet"

    def appended(self, table: str) -> None:
        """Make sure the append-only `table`'s pointer exists (after its first file)."""
        if self.root.read(self._pointer(table, APPEND)) is None:
            self.put(Entry(table, APPEND, write_id=APPEND))

    # -- writing -----------------------------------------------------------------------------
    def new_write(self, table: str, partition: str) -> tuple[str, str]:
        """(write id, fs folder) of a new write of the partition; the folder is made locally."""
        write_id = datetime.now(UTC).strftime(_STAMP) + "-" + uuid.uuid4().hex[:12]
        folder = self.root.key(TABLES, check_part(table, "table name"), partition, write_id)
        self.root.make_dirs(folder)
        return write_id, folder

    def put(self, entry: Entry) -> None:
        """Make `entry` the partition's pointer (atomically)."""
        stamped = Entry(
            entry.table,
            entry.partition,
            entry.files,
            entry.write_id,
            entry.rows,
            entry.view,
            datetime.now(UTC).isoformat(timespec="milliseconds"),
            entry.covered,
        )
        self.root.write_atomic(self._pointer(entry.table, entry.partition), stamped.to_json())

    def remove(self, table: str, partition: str) -> None:
        self.root.delete(self._pointer(table, partition))

    def sweep(self, table: str, partition: str, keep: str | None) -> None:
        """Remove the partition's write folders other than `keep` that no pointer names (a
        replaced write, or one whose writer was killed) once they are past the grace period."""
        folder = self.root.key(TABLES, check_part(table, "table name"), partition)
        kept_at = _written_at(keep) if keep else None
        cutoff = datetime.now(UTC).timestamp() - sweep_after()
        for path in self.root.list_dirs(folder):
            name = path.rsplit("/", 1)[1]
            made = _written_at(name)
            if name == keep or made is None:
                continue
            # Replaced by `keep` (readable until `keep` is old enough), or an orphan newer than it.
            released = kept_at if kept_at is not None and made <= kept_at else made
            if released <= cutoff:
                self.root.delete(path)

    def sweep_unnamed(self, table: str, partition: str, named: set[str]) -> None:
        """Remove the partition's write folders that are not `named` (a pointer names every
        live one) once they are past the grace period since they were made."""
        folder = self.root.key(TABLES, check_part(table, "table name"), partition)
        cutoff = datetime.now(UTC).timestamp() - sweep_after()
        for path in self.root.list_dirs(folder):
            name = path.rsplit("/", 1)[1]
            made = _written_at(name)
            if name not in named and made is not None and made <= cutoff:
                self.root.delete(path)

    def sweep_table(self, table: str, keep_partition: str | None) -> None:
        """Sweep every partition folder of `table` but `keep_partition`'s, after a whole-table
        write or a view replaced the partitions (their folders go once past the grace period)."""
        folder = self.root.key(TABLES, check_part(table, "table name"))
        for path in self.root.list_dirs(folder):
            partition = path.rsplit("/", 1)[1]
            if partition != keep_partition:
                self.sweep(table, partition, None)
