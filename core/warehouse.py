"""The embedded warehouse: one DuckDB file, one way to read and one way to write a table.

Tables that belong to a domain carry a `domain` column; writing a domain's rows replaces exactly
those rows in one transaction, so re-running an asset for a domain never duplicates anything.
DuckDB admits one writer process per file: Dagster runs use the in-process executor.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa

from core import file_tables
from core.paths import make_private, private_dir
from core.sql import quote_ident

# DuckDB's own default (80% of RAM) lets one large statement take most of the machine; bounded,
# it spills to `<warehouse>.tmp` instead, which keeps a paper-scale build within its memory goal.
MEMORY_LIMIT_ENV = "RECRM_DUCKDB_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "2GB"
# Storage compression of what the warehouse writes. DuckDB's automatic choice for long strings
# (prompts, JSON-like payloads) analyses FSST/dictionary at every checkpoint: 15 s for 75k
# ranking entries, against 2 s with zstd, which also stores them in 40% of the bytes and scans
# them faster. Query results do not depend on it (RECRM_DUCKDB_COMPRESSION=auto: DuckDB's choice).
COMPRESSION_ENV = "RECRM_DUCKDB_COMPRESSION"
DEFAULT_COMPRESSION = "zstd"

# What a writer accepts: an Arrow table, a polars frame, or a SELECT over warehouse tables.
TableSource = pa.Table | pl.DataFrame | str


class WarehouseError(RuntimeError):
    pass


# Warehouse files kept open for a whole run of this process (`held_open`): path -> instance.
_HELD: dict[Path, duckdb.DuckDBPyConnection] = {}
_HELD_LOCK = threading.Lock()


@contextmanager
def held_open(path: str | Path) -> Iterator[None]:
    """Keep one DuckDB instance on the warehouse file open until the block ends: every session
    and connection of this process on that file uses it. The CLI runs a whole build in one
    process, step after step; opening and closing the file for each of its ~190 steps (a
    session each) cost about 17 ms a step. Dagster runs launched from the UI run each in a
    process of their own and keep the per-step sessions."""
    key = Path(path).resolve()
    key.parent.mkdir(parents=True, exist_ok=True)
    with _HELD_LOCK:
        if key in _HELD:
            raise WarehouseError(f"warehouse {path} is already held open by this process")
        _HELD[key] = Warehouse(path)._open(read_only=False)
    try:
        yield
    finally:
        with _HELD_LOCK:
            instance = _HELD.pop(key)
        instance.close()


class Warehouse:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._sessions = 0
        self._instance: duckdb.DuckDBPyConnection | None = None  # open while in a session
        self._lock = threading.Lock()

    @contextmanager
    def session(self) -> Iterator[Warehouse]:
        """Within the block, every `connect` is a new connection to one database instance kept
        open until the block ends. Starting DuckDB on a file and closing it (a checkpoint) costs
        about 40 ms, and a build step connects three or four times (435 times in a paper build);
        a connection to an open instance costs under a millisecond. Each `connect` still gets
        its own connection (safe across threads, its own registered frames). Inside a session
        the file is locked by this process and reads use read-write connections (which can
        spill to disk). A Dagster step is one session (`WarehouseResource.session`)."""
        with self._lock:
            self._sessions += 1
        try:
            yield self
        finally:
            with self._lock:
                self._sessions -= 1
                instance = self._instance if self._sessions == 0 else None
                if instance is not None:
                    self._instance = None
            if instance is not None:
                instance.close()

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif not self.path.exists():
            raise WarehouseError(f"warehouse {self.path} does not exist: run the ingest first")
        held = _HELD.get(self.path.resolve()) if _HELD else None
        with self._lock:
            if held is None and self._sessions and self._instance is None:
                self._instance = self._open(read_only=False)
            instance = held if held is not None else self._instance if self._sessions else None
            con = instance.cursor() if instance is not None else None
        if con is None:
            con = self._open(read_only)
        try:
            yield con
        finally:
            con.close()

    def _open(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        limit = os.environ.get(MEMORY_LIMIT_ENV) or DEFAULT_MEMORY_LIMIT
        config = {"memory_limit": limit}
        compression = os.environ.get(COMPRESSION_ENV) or DEFAULT_COMPRESSION
        if compression != "auto":
            config["force_compression"] = compression
        if read_only:
            return duckdb.connect(str(self.path), read_only=True, config=config)
        # The warehouse holds quarantined raw text and every derived table: owner-only, whatever
        # the process's umask (a folder we create is made private too; a folder the user chose
        # and that exists already is theirs).
        if not self.path.parent.exists():
            private_dir(self.path.parent)
        con = duckdb.connect(str(self.path), config=config)
        make_private(self.path)
        return con

    @property
    def files_root(self) -> Path:
        """Folder of the Parquet-backed tables (see `core.file_tables`)."""
        return self.path.with_name(self.path.name + ".files")

    # -- reading -------------------------------------------------------------------------------
    def query(self, sql: str, params: dict | list | None = None) -> pl.DataFrame:
        with self.connect(read_only=True) as con:
            return pl.from_arrow(con.sql(sql, params=params or None).to_arrow_table())

    def query_arrow(self, sql: str, params: dict | list | None = None) -> pa.Table:
        with self.connect(read_only=True) as con:
            return con.sql(sql, params=params or None).to_arrow_table()

    def table_exists(self, table: str) -> bool:
        if not self.path.exists():
            return False
        with self.connect(read_only=True) as con:
            row = con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]
            ).fetchone()
        return bool(row and row[0])

    def read_partition(self, table: str, domain: str) -> pl.DataFrame:
        return self.query(
            f"SELECT * FROM {quote_ident(table)} WHERE domain = $domain", {"domain": domain}
        )

    def count(self, table: str, domain: str | None = None) -> int:
        where = " WHERE domain = $domain" if domain is not None else ""
        params = {"domain": domain} if domain is not None else {}
        with self.connect(read_only=True) as con:
            return con.execute(
                f"SELECT count(*) FROM {quote_ident(table)}{where}", params
            ).fetchone()[0]

    # -- writing -------------------------------------------------------------------------------
    def write_partition(
        self,
        table: str,
        domain: str,
        source: TableSource,
        params: dict | None = None,
        schema: pa.Schema | None = None,
        scope: dict[str, str] | None = None,
        ordered: bool = True,
    ) -> int:
        """Replace the rows of `domain` in `table` with `source`; returns the rows written.

        `source` must carry a `domain` column equal to `domain`. With `schema`, the table is
        created with exactly that schema (so an empty first partition still has typed columns).
        `scope` narrows what is replaced to the domain's rows that also match these column values
        (e.g. `{"table_name": "items"}` in the shared `quarantine` table); `source` must match it.
        With `ordered=False` the rows may be stored in any order (DuckDB then inserts on every
        thread: about twice as fast for wide rows); only for tables every reader sorts or
        aggregates, since `read_partition` returns rows in stored order.
        """
        return self._write(
            table, source, params, schema, domain=domain, scope=scope, ordered=ordered
        )

    def write_table(
        self,
        table: str,
        source: TableSource,
        params: dict | None = None,
        schema: pa.Schema | None = None,
        ordered: bool = True,
    ) -> int:
        """Replace the whole of `table` with `source`; returns the rows written (`ordered`: as
        in `write_partition`)."""
        return self._write(table, source, params, schema, domain=None, ordered=ordered)

    def write_partition_files(
        self,
        table: str,
        domain: str,
        sources: Sequence[TableSource],
        schema: pa.Schema,
        params: dict | None = None,
        ordered: bool = False,
        concurrency: int = 1,
    ) -> int:
        """Replace `domain`'s rows of the Parquet-backed `table` with the rows of `sources`
        (SELECTs over warehouse tables or frames, each written by DuckDB to one Parquet file);
        returns the rows written. Rows keep their order only with `ordered`; `concurrency`
        SELECTs are copied at once. For tables that are written whole per domain and then only
        read: see `core.file_tables`."""
        return self._write_files(table, domain, sources, schema, params, ordered, concurrency)

    def write_table_files(
        self,
        table: str,
        sources: Sequence[TableSource],
        schema: pa.Schema,
        params: dict | None = None,
        ordered: bool = False,
    ) -> int:
        """Replace the whole Parquet-backed `table` (as `write_partition_files`, all domains)."""
        return self._write_files(table, None, sources, schema, params, ordered)

    def _write_files(self, table, domain, sources, schema, params, ordered, concurrency=1) -> int:
        arrow = [s.to_arrow() if isinstance(s, pl.DataFrame) else s for s in sources]
        with self.connect() as con:
            return file_tables.write_files(
                con, self.files_root, table, domain, arrow, params, schema, ordered, concurrency
            )

    def write_partitions(self, writes: Sequence[PartitionWrite]) -> list[int]:
        """Several `write_partition`s in one connection and one transaction (all or nothing);
        returns the rows written by each."""
        with self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                written = [
                    self._write_on(con, w.table, w.source, w.params, w.schema, w.domain, w.scope)
                    for w in writes
                ]
                con.execute("COMMIT")
            except Exception:
                con.execute("ROLLBACK")
                raise
        return written

    def _write(self, table, source, params, schema, domain, scope=None, ordered=True) -> int:
        with self.connect() as con, file_tables.insertion_order(con, ordered):
            con.execute("BEGIN TRANSACTION")
            try:
                written = self._write_on(con, table, source, params, schema, domain, scope)
                con.execute("COMMIT")
            except Exception:
                con.execute("ROLLBACK")
                raise
        if domain is None:  # a table that was Parquet-backed before this write
            file_tables.remove_table_folder(self.files_root, table)
        return written

    def _write_on(self, con, table, source, params, schema, domain, scope) -> int:
        """One table write inside the caller's transaction."""
        qt = quote_ident(table)
        if file_tables.is_file_table(con, table):
            if domain is not None:
                raise WarehouseError(
                    f"table {table} is stored as Parquet files: write its partitions with "
                    "write_partition_files"
                )
            file_tables.drop_files(con, table)
        where, where_params = "", {}
        if domain is not None:
            conditions = ["domain = $d"]
            where_params["d"] = domain
            for i, (column, value) in enumerate((scope or {}).items()):
                conditions.append(f"{quote_ident(column)} = $s{i}")
                where_params[f"s{i}"] = value
            where = " WHERE " + " AND ".join(conditions)
        if isinstance(source, str):
            select_sql = source
        else:
            arrow = source.to_arrow() if isinstance(source, pl.DataFrame) else source
            if schema is not None:
                arrow = arrow.select(schema.names).cast(schema)
            con.register("_recrm_source", arrow)
            select_sql = "SELECT * FROM _recrm_source"
        if domain is None:
            con.execute(f"DROP TABLE IF EXISTS {qt}")
        if schema is not None:
            con.register("_recrm_empty", schema.empty_table())
            con.execute(f"CREATE TABLE IF NOT EXISTS {qt} AS SELECT * FROM _recrm_empty")
        else:
            con.execute(
                f"CREATE TABLE IF NOT EXISTS {qt} AS SELECT * FROM ({select_sql}) LIMIT 0",
                params or {},
            )
        if domain is not None:
            con.execute(f"DELETE FROM {qt}{where}", where_params)
        try:
            con.execute(f"INSERT INTO {qt} BY NAME {select_sql}", params or {})
        except duckdb.BinderException as exc:
            raise WarehouseError(
                f"cannot write to table {table}: its columns differ from the new rows "
                f"({exc}). Rebuild the warehouse (delete {self.path}) after a schema change."
            ) from exc
        return con.execute(f"SELECT count(*) FROM {qt}{where}", where_params).fetchall()[0][0]


@dataclass(frozen=True)
class PartitionWrite:
    """One `write_partition` call, for `Warehouse.write_partitions`."""

    table: str
    domain: str
    source: TableSource
    schema: pa.Schema | None = None
    scope: dict[str, str] | None = None
    params: dict | None = None
