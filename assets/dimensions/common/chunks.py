"""Bounded-memory building of large entry tables: requests are cut into hash buckets, each
bucket's entries are built, rendered and spilled to a Parquet file, and the domain's rows are then
replaced in one transaction from those files. Splits are decided once over the whole domain first
(time quantiles need every timestamp), and joined onto each bucket by entry_id.
"""

from __future__ import annotations

import math
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from assets.dimensions.common.entries import label_distribution, split_distribution
from core.warehouse import Warehouse
from schemas.entries import entries_table, entry_schema

DEFAULT_CHUNK_ROWS = 100_000


def bucket_predicate(column: str, n_buckets: int, bucket: int) -> str:
    """SQL predicate selecting one of `n_buckets` stable hash buckets of `column` (TRUE for 1)."""
    if n_buckets <= 1:
        return "TRUE"
    return f"(hash({column}) % {int(n_buckets)}) = {int(bucket)}"


def n_buckets(rows: int, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> int:
    return max(1, math.ceil(rows / max(1, chunk_rows)))


def _sql_literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def write_entries_in_chunks(
    wh: Warehouse,
    dimension: str,
    domain: str,
    buckets: int,
    build_bucket: Callable[[int], pl.DataFrame],
) -> dict:
    """Build bucket 0..buckets-1 with `build_bucket`, spill each to Parquet, then replace the
    domain's rows of entries_<dim> from the files; returns rows and distributions."""
    schema = entry_schema(dimension)
    labels: Counter = Counter()
    splits: Counter = Counter()
    wh.path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".entries_{dimension}_", dir=wh.path.parent) as tmp:
        files = []
        for b in range(buckets):
            frame = build_bucket(b)
            labels.update(label_distribution(frame, dimension))
            splits.update(split_distribution(frame))
            path = Path(tmp) / f"part-{b:05d}.parquet"
            pq.write_table(frame.to_arrow().select(schema.names).cast(schema), path)
            files.append(path)
            del frame
        listing = ", ".join(_sql_literal(p) for p in files)
        rows = wh.write_partition(
            entries_table(dimension),
            domain,
            f"SELECT * FROM read_parquet([{listing}])",
            schema=schema,
        )
    return {
        "rows": int(rows),
        "label_distribution": dict(sorted(labels.items())),
        "split_distribution": dict(sorted(splits.items())),
        "chunks": buckets,
    }
