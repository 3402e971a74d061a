"""Cutting a domain's request-keyed inputs into hash buckets once, so that each bucket of a
bucketed entries build reads its own rows only.

A large domain's behaviour and ranking entries are written a hash bucket of requests at a time
(`sql_entries`), and the number of buckets grows with the domain. When each bucket filtered the
domain's whole tables by `hash(request_id)`, every bucket scanned (and decoded) all of them: the
cost grew with the square of the input (food_delivery's behaviour entries: 1:50 at 4x, 26.7 min
at 10x; benchmarks/RESULTS.md). Here one pass per table copies the rows the split policy keeps
into one folder per bucket (DuckDB `COPY ... PARTITION_BY`), and bucket b reads folder b.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from core.sql import quote_ident, sql_literal
from core.warehouse import Warehouse

# The request-keyed tables a per-request bundle and its shown items are built from. Items and
# users are keyed otherwise and small (a domain's catalogue and users): read whole by each bucket.
REQUEST_KEYED = ("stg_request_items", "stg_user_histories", "raw_requests")
BUCKET_COLUMN = "bucket"


@dataclass(frozen=True)
class BucketedInputs:
    """Where each bucket's rows of the request-keyed tables are; `buckets`: the buckets with
    shown items (the others have no entries)."""

    folder: Path
    buckets: tuple[int, ...]

    def tables(self, bucket: int) -> Mapping[str, str]:
        """Table name -> SQL relation of `bucket`'s rows of it."""
        return {table: self._relation(table, bucket) for table in REQUEST_KEYED}

    def _relation(self, table: str, bucket: int) -> str:
        files = self.folder / table / f"{BUCKET_COLUMN}={int(bucket)}"
        if not files.is_dir():  # no row of this table in the bucket
            return f"(SELECT * FROM {quote_ident(table)} WHERE FALSE)"
        pattern = sql_literal(str(files / "*.parquet"))
        return f"read_parquet({pattern}, hive_partitioning = false)"


@contextmanager
def bucketed_inputs(
    wh: Warehouse, domain: str, buckets: int, request_filter: str
) -> Iterator[BucketedInputs]:
    """Copy `domain`'s rows of every REQUEST_KEYED table whose `request_id` passes
    `request_filter` (SQL over `request_id` and $domain) into `buckets` stable hash buckets of requests, in a
    scratch folder removed after the block."""
    with wh.scratch_folder("buckets") as folder:
        with wh.connect() as con:
            for table in REQUEST_KEYED:
                con.execute(
                    f"COPY (SELECT *, hash(request_id) % {int(buckets)} AS {BUCKET_COLUMN} "
                    f"FROM {quote_ident(table)} WHERE domain = $domain AND {request_filter}) "
                    f"TO {sql_literal(str(folder / table))} "
                    f"(FORMAT parquet, PARTITION_BY ({BUCKET_COLUMN}))",
                    {"domain": domain},
                )
        shown = folder / REQUEST_KEYED[0]
        found = sorted(
            int(p.name.split("=", 1)[1]) for p in shown.glob(f"{BUCKET_COLUMN}=*") if p.is_dir()
        )
        yield BucketedInputs(folder, tuple(found))
