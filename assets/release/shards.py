"""Parquet shards of one dimension's split: deterministic order, fixed size, reproducible bytes.

Rows are streamed from the warehouse ordered by `entry_id` (unique), cut into shards of
`shard_rows` rows, cast to `schemas.entries.entry_schema(dimension)` and written by pyarrow with
fixed writer options, so the same rows always give the same file bytes and sha256.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from schemas.entries import entry_schema

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


def write_shard(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        table, path, row_group_size=min(ROW_GROUP_ROWS, max(1, len(table))), **PARQUET_OPTIONS
    )


def _rechunk(reader: pa.RecordBatchReader, rows: int):
    """Tables of exactly `rows` rows (the last one shorter) from a batch stream."""
    pending: list[pa.RecordBatch] = []
    held = 0
    for batch in reader:
        pending.append(batch)
        held += batch.num_rows
        while held >= rows:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, rows)
            rest = table.slice(rows)
            pending, held = rest.to_batches(), rest.num_rows
    if held:
        yield pa.Table.from_batches(pending, schema=reader.schema)


def write_split(
    con: duckdb.DuckDBPyConnection,
    table: str,
    dimension: str,
    split: str,
    release_dir: Path,
    shard_rows: int,
) -> list[Shard]:
    """Write `split`'s rows of `table` as shards under `release_dir/<dimension>/`."""
    schema = entry_schema(dimension)
    columns = ", ".join(f'"{n}"' for n in schema.names)
    rows = con.execute(f'SELECT count(*) FROM "{table}" WHERE split = ?', [split]).fetchall()[0][0]
    total = shard_count(rows, shard_rows)
    if not total:
        return []
    reader = con.sql(
        f'SELECT {columns} FROM "{table}" WHERE split = $split ORDER BY entry_id',
        params={"split": split},
    ).to_arrow_reader(_READ_BATCH_ROWS)
    shards = []
    for index, chunk in enumerate(_rechunk(reader, shard_rows)):
        relative = f"{dimension}/{shard_name(split, index, total)}"
        path = release_dir / relative
        write_shard(cast_to_schema(chunk, schema, f"{table} ({split})"), path)
        shards.append(Shard(path=relative, rows=len(chunk), sha256=file_sha256(path)))
    if sum(s.rows for s in shards) != rows:
        raise RuntimeError(f"{table} ({split}): wrote {sum(s.rows for s in shards)} of {rows} rows")
    return shards


def cast_to_schema(table: pa.Table, schema: pa.Schema, what: str) -> pa.Table:
    """`table` in exactly `schema` (column order, types, nullability), or a clear error."""
    try:
        return table.select(schema.names).cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, TypeError, ValueError, KeyError) as exc:
        raise ValueError(f"{what} does not fit the entry schema: {exc}") from exc
