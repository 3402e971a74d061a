"""Parquet shards of one dimension's split: deterministic order, fixed size, reproducible bytes.

Rows are streamed from the warehouse ordered by `entry_id` (unique), cut into shards of
`shard_rows` rows, cast to `schemas.features.release_arrow_schema(dimension)` (the entry schema
with int64 label columns and the Hugging Face features in its metadata) and written by pyarrow
with fixed writer options, so the same rows always give the same file bytes and sha256.

All splits of a dimension are written in one pass over ranges of entry_id of at most
SORT_RANGE_ROWS rows (bounds from quantiles of the narrow entry_id column): each range is sorted
in memory by (split, entry_id) and its rows go to their split's stream. One sort of all
770k wide behaviour rows of a split needs more memory than DuckDB's limit (and a read-only
connection cannot spill), and filtering each split separately would read the table three times.

A split's stream writes its shard one row group of ROW_GROUP_ROWS rows at a time, each from one
contiguous chunk per column (the writer's pages follow the Arrow chunks, so the bytes would
otherwise depend on how the rows were read). Row groups are written on one thread (pyarrow
releases the GIL) while more rows are read, at most GROUPS_AHEAD of them waiting: memory holds a
few row groups, never a whole shard.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from core.sql import quote_ident, sql_literal
from schemas.features import release_arrow_schema

ROW_GROUP_ROWS = 10_000  # row groups small enough for readers to stream large shards
PARQUET_OPTIONS = {
    "compression": "zstd",
    "compression_level": 3,
    "use_dictionary": True,
    "write_statistics": True,
    "data_page_version": "2.0",
    "version": "2.6",
}
_READ_BATCH_ROWS = 8_192
SORT_RANGE_ROWS = 200_000  # wide rows sorted at once: ~500 MiB of behaviour entries
GROUPS_AHEAD = 4  # row groups read but not yet written, per split


@dataclass(frozen=True)
class Shard:
    path: str  # relative to the release folder, POSIX separators
    rows: int
    sha256: str


def shard_name(split: str, index: int, total: int) -> str:
    return f"{split}-{index:05d}-of-{total:05d}.parquet"


def shard_count(rows: int, shard_rows: int) -> int:
    return -(-rows // shard_rows) if rows else 0


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def append_row_group(writer: pq.ParquetWriter, group: pa.Table) -> None:
    """Write `group` (one contiguous chunk per column) as one row group."""
    writer.write_table(group, row_group_size=max(1, len(group)))


def _entry_id_ranges(con: duckdb.DuckDBPyConnection, table: str, rows: int) -> list[str]:
    """WHERE clauses cutting `table` into ranges of entry_id of at most SORT_RANGE_ROWS rows."""
    ranges = -(-rows // SORT_RANGE_ROWS)
    if ranges <= 1:
        return ["TRUE"]
    fractions = ", ".join(f"{i / ranges:.6f}" for i in range(1, ranges))
    bounds = con.execute(
        f"SELECT quantile_disc(entry_id, [{fractions}]) FROM {quote_ident(table)}"
    ).fetchall()[0][0]
    edges = [None, *(sql_literal(b) for b in bounds), None]
    return [
        " AND ".join(
            ([f"entry_id >= {low}"] if low else []) + ([f"entry_id < {high}"] if high else [])
        )
        for low, high in zip(edges, edges[1:], strict=False)
    ]


class _SplitShards:
    """Streams one split's rows, arriving in entry_id order, into shards of `shard_rows` rows,
    one row group at a time. The groups are written in order on `writer` (one thread, which
    alone touches the open shard file)."""

    def __init__(self, dimension, split, rows, shard_rows, release_dir, writer, what):
        self.dimension, self.split, self.shard_rows = dimension, split, shard_rows
        self.total = shard_count(rows, shard_rows)
        self.release_dir, self.writer, self.what = release_dir, writer, what
        self.schema = release_arrow_schema(dimension)
        self.pending: list[pa.RecordBatch] = []
        self.held = 0  # rows in `pending`
        self.index = 0  # the shard being filled
        self.filled = 0  # rows handed to it
        self.queued: deque[Future] = deque()
        self.shards: list[Shard] = []  # closed shards, in order
        # The open shard file, its path and rows: touched on the writer thread only.
        self._file: pq.ParquetWriter | None = None
        self._path: Path | None = None
        self._rows = 0

    def add(self, batch: pa.RecordBatch) -> None:
        self.pending.append(batch)
        self.held += batch.num_rows
        while self.held and self.held >= min(ROW_GROUP_ROWS, self.shard_rows - self.filled):
            self._emit(min(ROW_GROUP_ROWS, self.shard_rows - self.filled))

    def finish(self) -> list[Shard]:
        if self.held:
            self._emit(self.held)  # the last shard's last, shorter row group
        if self.filled:
            self._end_shard()
        while self.queued:
            self.queued.popleft().result()
        return self.shards

    def _emit(self, rows: int) -> None:
        table = pa.Table.from_batches(self.pending)
        rest = table.slice(rows)
        self.pending, self.held = rest.to_batches(), rest.num_rows
        group = cast_to_schema(table.slice(0, rows), self.schema, self.what).combine_chunks()
        name = shard_name(self.split, self.index, self.total)
        self._submit(self._append, group, f"{self.dimension}/{name}")
        self.filled += rows
        if self.filled == self.shard_rows:
            self._end_shard()

    def _end_shard(self) -> None:
        self._submit(self._close)
        self.index, self.filled = self.index + 1, 0

    def _submit(self, fn, *args) -> None:
        self.queued.append(self.writer.submit(fn, *args))
        while len(self.queued) > GROUPS_AHEAD:
            self.queued.popleft().result()  # bounded memory; a write error surfaces here

    def _append(self, group: pa.Table, relative: str) -> None:
        if self._file is None:
            self._path = self.release_dir / relative
            self._path.parent.mkdir(parents=True, exist_ok=True)
            self._file = pq.ParquetWriter(self._path, group.schema, **PARQUET_OPTIONS)
            self._rows = 0
        append_row_group(self._file, group)
        self._rows += len(group)

    def _close(self) -> None:
        self._file.close()
        self._file = None
        relative = self._path.relative_to(self.release_dir).as_posix()
        self.shards.append(Shard(relative, self._rows, file_sha256(self._path)))


def write_splits(
    con: duckdb.DuckDBPyConnection,
    table: str,
    dimension: str,
    splits: Sequence[str],
    release_dir: Path,
    shard_rows: int,
) -> dict[str, list[Shard]]:
    """Write every split's rows of `table` as shards under `release_dir/<dimension>/`."""
    schema = release_arrow_schema(dimension)
    columns = ", ".join(quote_ident(n) for n in schema.names)
    counts = dict(
        con.execute(f"SELECT split, count(*) FROM {quote_ident(table)} GROUP BY split").fetchall()
    )
    total_rows = sum(counts.get(split, 0) for split in splits)
    with ThreadPoolExecutor(max_workers=1) as writer:
        writers = {
            split: _SplitShards(
                dimension, split, counts.get(split, 0), shard_rows, release_dir, writer,
                f"{table} ({split})",
            )
            for split in splits
        }  # fmt: skip
        for where in _entry_id_ranges(con, table, total_rows) if total_rows else []:
            reader = con.sql(
                f"SELECT {columns} FROM {quote_ident(table)} WHERE ({where}) AND split IN "
                f"({', '.join(sql_literal(s) for s in splits)}) ORDER BY split, entry_id"
            ).to_arrow_reader(_READ_BATCH_ROWS)
            for batch in reader:
                _route(batch, writers)
        shards = {split: w.finish() for split, w in writers.items()}
    for split in splits:
        written = sum(s.rows for s in shards[split])
        if written != counts.get(split, 0):
            raise RuntimeError(f"{table} ({split}): wrote {written} of {counts.get(split, 0)} rows")
    return shards


def _route(batch: pa.RecordBatch, writers: dict[str, _SplitShards]) -> None:
    """Hand each run of one split's rows (the batch is sorted by split) to that split's writer,
    as zero-copy slices."""
    runs = pc.run_end_encode(batch.column(batch.schema.get_field_index("split")))
    start = 0
    for end, split in zip(runs.run_ends.to_pylist(), runs.values.to_pylist(), strict=True):
        writers[split].add(batch.slice(start, end - start))
        start = end


def cast_to_schema(table: pa.Table, schema: pa.Schema, what: str) -> pa.Table:
    """`table` in exactly `schema` (column order, types, nullability, metadata), or a clear
    error."""
    try:
        return table.select(schema.names).cast(schema).replace_schema_metadata(schema.metadata)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, TypeError, ValueError, KeyError) as exc:
        raise ValueError(f"{what} does not fit the entry schema: {exc}") from exc
