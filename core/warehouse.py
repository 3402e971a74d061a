"""The warehouse: one way to read and one way to write a table, over one of two stores.

- A storage root (the default, `data/tables`; setting `storage_root`: a local folder or
  `s3://bucket/prefix`, `core.storage`): every table is Parquet files per partition with a
  catalog of the files in use (`core.catalog`, `core.file_tables`). Each session is a
  process-private in-memory DuckDB instance (spilling to a local folder, `<path>.tmp/`) with a
  view per catalogued table; a write replaces its partition's catalog pointer. Processes that
  write different domains run at the same time, on one machine or many. No DuckDB file is made.
- Embedded: one DuckDB file (`path`), the store when a warehouse file is named and no storage
  root is, or with `storage_root = "none"` (`core.settings.Settings._choose_store`). Tables that
  belong to a domain carry a `domain` column; writing a domain's rows replaces exactly those
  rows in one transaction, so re-running an asset for a domain never duplicates anything.
  DuckDB admits one writer process per file, so one process builds at a time.

The API is the same in both: steps do not know which store they use.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa

from core import file_tables
from core.catalog import APPEND, COMPACTED, Catalog, Entry, partition_key, sweep_after
from core.paths import make_private, private_dir
from core.sql import quote_ident
from core.storage import StorageRoot

# DuckDB's own default (80% of RAM) lets one large statement take most of the machine; bounded,
# it spills to `<warehouse>.tmp` instead, which keeps a paper-scale build within its memory goal.
MEMORY_LIMIT_ENV = "RECRM_DUCKDB_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "2GB"


def duckdb_memory_limit() -> str:
    """The memory limit of a DuckDB instance the pipeline opens on rows that grow with the input
    (the warehouse's, an ingest's private database)."""
    return os.environ.get(MEMORY_LIMIT_ENV) or DEFAULT_MEMORY_LIMIT


# Storage compression of what the warehouse writes. DuckDB's automatic choice for long strings
# (prompts, JSON-like payloads) analyses FSST/dictionary at every checkpoint: 15 s for 75k
# ranking entries, against 2 s with zstd, which also stores them in 40% of the bytes and scans
# them faster. Query results do not depend on it (RECRM_DUCKDB_COMPRESSION=auto: DuckDB's choice).
COMPRESSION_ENV = "RECRM_DUCKDB_COMPRESSION"
DEFAULT_COMPRESSION = "zstd"
# Under a storage root, an append-only table (the LLM cache) is compacted once this many batch
# files are not yet merged: each batch is a file, and a scan opens every file.
COMPACT_AFTER = 64

# What a writer accepts: an Arrow table, a polars frame, or a SELECT over warehouse tables.
TableSource = pa.Table | pl.DataFrame | str


class WarehouseError(RuntimeError):
    pass


# Warehouse files kept open for a whole run of this process (`held_open`): path -> instance.
_HELD: dict[Path, duckdb.DuckDBPyConnection] = {}
_HELD_LOCK = threading.Lock()


@contextmanager
def held_open(path: str | Path, storage_root: str | Path | None = None) -> Iterator[None]:
    """Keep one DuckDB instance on the warehouse file open until the block ends: every session
    and connection of this process on that file uses it. The CLI runs a whole build in one
    process, step after step; opening and closing the file for each of its ~190 steps (a
    session each) cost about 17 ms a step. Dagster runs launched from the UI run each in a
    process of their own and keep the per-step sessions. Under a storage root there is no file
    to hold (each session has its own in-memory instance): nothing is opened."""
    if storage_root:
        yield
        return
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


class _CatalogInstance:
    """An in-memory DuckDB instance with a view per table of a storage root's catalog, kept by
    the process across sessions: a session re-creates only the views whose pointers changed
    (binding a view reads its files' footers; all ~40 tables of a build cost ~0.4 s)."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self.views: dict[str, tuple[Entry, ...]] = {}
        self.lock = threading.Lock()

    def sync(self, catalog: Catalog, tables: set[str] | None = None) -> None:
        """Views as the catalog is now: of every table (`tables`: of these only)."""
        grouped: dict[str, tuple[Entry, ...]] = {}
        for entry in catalog.entries():
            if tables is None or entry.table in tables:
                grouped[entry.table] = (*grouped.get(entry.table, ()), entry)
        with self.lock:
            changed = set(tables) if tables is not None else set()
            if tables is None:
                for name in set(grouped) | set(self.views):
                    now = grouped.get(name)
                    appended = now is not None and any(e.partition == APPEND for e in now)
                    if appended or now != self.views.get(name):
                        changed.add(name)
            if not changed:
                return
            entries = [e for name in changed for e in grouped.get(name, ())]
            file_tables.create_views(self.con, catalog, entries, changed)
            for name in changed:
                if name in grouped:
                    self.views[name] = grouped[name]
                else:
                    self.views.pop(name, None)


# Under a storage root: (root, spill folder, pid) -> this process's instance for it.
_CATALOG_INSTANCES: dict[tuple[str, str, int], _CatalogInstance] = {}
_CATALOG_LOCK = threading.Lock()


class Warehouse:
    def __init__(self, path: str | Path, storage_root: str | Path | None = None):
        """`path`: the DuckDB file (embedded, `storage_root` None); under a `storage_root`, the
        local base name of what stays on this machine (the spill folder `<path>.tmp/`,
        validation results beside it); no file is made at `path` then. The settings' default is
        the root (`Settings.storage_root`); a `Warehouse` made in code with a path alone is the
        embedded file."""
        self.path = Path(path)
        self.storage = StorageRoot.open(storage_root) if storage_root else None
        self.catalog = Catalog(self.storage) if self.storage is not None else None
        self._sessions = 0
        self._instance: duckdb.DuckDBPyConnection | None = None  # open while in a session
        self._synced = False  # under a storage root: this session's views follow the catalog
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
                if self._sessions == 0:
                    self._synced = False
                instance = self._instance if self._sessions == 0 else None
                if instance is not None:
                    self._instance = None
            if instance is not None:
                instance.close()

    @contextmanager
    def scratch_folder(self, prefix: str) -> Iterator[Path]:
        """A new owner-only folder on this machine for a step's intermediate files (inside
        `<path>.tmp/`, beside DuckDB's spill files), removed with everything in it after."""
        parent = private_dir(self.spill_parent)
        folder = Path(tempfile.mkdtemp(prefix=f"{prefix}-", dir=parent))
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    @property
    def spill_parent(self) -> Path:
        """`<path>.tmp/`: the embedded file spills into it; under a root each process spills into
        a folder of its own inside it."""
        return Path(f"{self.path}.tmp")

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        if self.catalog is not None:
            with self._catalog_connect(read_only) as con:
                yield con
            return
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
        config = {"memory_limit": duckdb_memory_limit()}
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

    # -- under a storage root ------------------------------------------------------------------
    @contextmanager
    def _catalog_connect(self, read_only: bool) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to this process's in-memory instance for the root. Its views follow the
        catalog as it was at the session's first connect (at every connect outside a session),
        plus this process's own writes since."""
        shared = self._shared()
        with self._lock:
            sync = not self._sessions or not self._synced
            if self._sessions:
                self._synced = True
        if sync:
            shared.sync(self.catalog)
        con = shared.con.cursor()
        try:
            yield con
            if not read_only:
                self._refuse_stored_tables(con)
        finally:
            con.close()

    def _shared(self) -> _CatalogInstance:
        # Spill to this machine's disk, per process (two processes never share a spill folder).
        spill = self.spill_parent / str(os.getpid())
        key = (self.storage.url, str(spill.resolve()), os.getpid())
        with _CATALOG_LOCK:
            shared = _CATALOG_INSTANCES.get(key)
            if shared is None:
                if not spill.parent.exists():
                    private_dir(spill.parent)  # DuckDB makes the last folder only, when it spills
                config = {"memory_limit": duckdb_memory_limit(), "temp_directory": str(spill)}
                con = duckdb.connect(":memory:", config=config)
                # Footers are cached across queries: files under a root are never rewritten.
                con.execute("LOAD parquet")
                con.execute("SET parquet_metadata_cache = true")
                # Joins are made in the order the SQL writes them. A Parquet scan gives DuckDB's
                # join-order optimizer no distinct counts (a DuckDB table keeps them), so it takes
                # every join column for a key: `domain = domain` between two one-domain inputs
                # looked like a join of a few rows, and the behaviour entries of the sample's
                # food_delivery joined every item to every request before matching the shown
                # items (8.5 s and 2.2 GB, against 0.8 s and 0.5 GB as written; the whole sample
                # build: docs/deploy.md). Results do not depend on it (the same release bytes).
                con.execute("SET disabled_optimizers = 'join_order'")
                self.storage.attach(con)
                shared = _CATALOG_INSTANCES[key] = _CatalogInstance(con)
        return shared

    def _refuse_stored_tables(self, con: duckdb.DuckDBPyConnection) -> None:
        """A table created with SQL on a connection lives only in this process's instance under a
        storage root: refuse it loudly rather than lose it (write through `write_partition`)."""
        made = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM duckdb_tables() "
                "WHERE database_name = current_database() AND NOT temporary"
            ).fetchall()
        ]
        for name in made:
            con.execute(f"DROP TABLE {quote_ident(name)}")
        if made:
            raise WarehouseError(
                f"table(s) {', '.join(made)} were created with SQL on a warehouse connection; under "
                f"a storage root ({self.storage.url}) a table is written with write_partition, "
                "write_table or write_partition_files"
            )

    def _catalog_write(self, writes, ordered: bool, concurrency: int = 1) -> list[int]:
        """Write every (table, domain, sources, params, schema, scope)'s files, then make their
        pointers current (in order), then refresh this session's views of those tables."""
        made: list[Entry] = []
        rows: list[int] = []
        with self.connect() as con, file_tables.insertion_order(con, ordered):
            try:
                for table, domain, sources, params, schema, scope in writes:
                    entry, written = file_tables.write_catalog_files(
                        con,
                        self.catalog,
                        table,
                        domain,
                        sources,
                        params,
                        schema,
                        concurrency,
                        scope,
                    )
                    made.append(entry)
                    rows.append(written)
            except file_tables.PartitionMismatch as exc:
                self._discard(made)
                raise WarehouseError(str(exc)) from exc
            except BaseException:
                self._discard(made)
                raise
            file_tables.put_entries(self.catalog, made)
            self._shared().sync(self.catalog, {e.table for e in made})
        return rows

    def _discard(self, made: list[Entry]) -> None:
        for entry in made:
            self.storage.delete(
                self.storage.key("tables", entry.table, entry.partition, entry.write_id)
            )

    def replace_with_view(self, table: str, select_sql: str) -> None:
        """Make `table` a view defined by `select_sql` over other tables (in every domain),
        replacing whatever `table` was: a DuckDB table, Parquet files, or an older view."""
        if self.catalog is not None:
            file_tables.put_entries(
                self.catalog, [Entry(table, partition_key(None), view=select_sql)]
            )
            self._shared().sync(self.catalog, {table})
            return
        with self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            copied = file_tables.is_file_table(con, table)  # a copy an earlier build wrote
            if copied:
                file_tables.drop_files(con, table)
            elif file_tables.kind_of(con, table) == "BASE TABLE":
                con.execute(f"DROP TABLE {quote_ident(table)}")
            con.execute(f"CREATE OR REPLACE VIEW {quote_ident(table)} AS {select_sql}")
            con.execute("COMMIT")
        if copied:
            file_tables.remove_table_folder(self.files_root, table)

    def append_rows(self, table: str, rows: pa.Table) -> None:
        """Add `rows` to the append-only `table` (storage root only: one more whole Parquet file
        in its folder, `core.catalog`); this session's view of it is refreshed."""
        if self.catalog is None:
            raise WarehouseError(f"append_rows({table}) is for a storage root")
        self.storage.write_table_atomic(self.catalog.append_file(table), rows)
        self.catalog.appended(table)
        entry = self.catalog.get(table, APPEND)
        if entry is not None and len(self.catalog.batches(entry)) >= COMPACT_AFTER:
            self.compact_appended(table)
        self._shared().sync(self.catalog, {table})

    def compact_appended(self, table: str) -> int:
        """Merge the append-only `table`'s batches that no merged file covers yet into one
        Parquet file (rows in table order) and make it current; returns the batches merged (0:
        fewer than two). Every reader's rows stay the same: a batch appended meanwhile is not
        covered and still read; covered batches stay on the root for the grace period
        (`RECRM_STORAGE_SWEEP_AFTER`) after the pointer that covered them, then a later
        compaction removes them. Two compactions at once are safe: the last pointer wins and
        the other's merged file, which no pointer names, is removed after the grace period."""
        if self.catalog is None:
            raise WarehouseError(f"compact_appended({table}) is for a storage root")
        entry = self.catalog.get(table, APPEND)
        if entry is None:
            return 0
        batches = self.catalog.batches(entry)
        if len(batches) < 2:
            return 0
        write_id, folder = self.catalog.new_write(table, COMPACTED)
        path = f"{folder}/part-00000.parquet"
        uris = [self.storage.uri(self.storage.resolve(k)) for k in batches]
        try:
            with self.connect() as con, file_tables.insertion_order(con, True):
                merged_rows = file_tables.merge_files(con, uris, self.storage.uri(path))
        except BaseException:
            self.storage.delete(folder)
            raise
        cutoff = time.time() - sweep_after()
        kept = []
        for merged, at, covered in entry.covered:
            # Covered for longer than the grace period: removed first, so that no pointer
            # stops covering a batch that is still there (a reader would count it twice).
            if datetime.fromisoformat(at).timestamp() <= cutoff:
                for key in covered:
                    self.storage.delete(self.storage.resolve(key))
            else:
                kept.append((merged, at, covered))
        made = self.storage.relative(path)
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        rows = (entry.rows or 0) + int(merged_rows)
        self.catalog.put(
            Entry(
                table,
                APPEND,
                (*entry.files, made),
                write_id,
                rows,
                covered=(*kept, (made, now, tuple(batches))),
            )
        )
        named = {f.split("/")[3] for f in (*entry.files, made)}
        self.catalog.sweep_unnamed(table, COMPACTED, named)
        self._shared().sync(self.catalog, {table})
        return len(batches)

    def exists(self) -> bool:
        """Whether anything was written yet (the file, or a catalog pointer under the root)."""
        if self.catalog is not None:
            return bool(self.storage.list_files(self.storage.key("_catalog")))
        return self.path.exists()

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

    def query_slices(
        self, sql: str, params: dict | list | None = None, rows: int = 20_000
    ) -> Iterator[pl.DataFrame]:
        """The result of `sql` in slices of `rows` rows (the last one shorter), in its order: a
        result larger than memory is never held whole. The connection stays open until the
        last slice is drawn."""
        with self.connect(read_only=True) as con:
            reader = con.sql(sql, params=params or None).to_arrow_reader(rows)
            held = reader.schema.empty_table()
            for batch in reader:
                held = pa.concat_tables([held, pa.Table.from_batches([batch])])
                while held.num_rows >= rows:
                    yield pl.from_arrow(held.slice(0, rows))
                    held = held.slice(rows)
            if held.num_rows:
                yield pl.from_arrow(held)

    def table_exists(self, table: str) -> bool:
        if self.catalog is not None and not self._sessions:
            return bool(self.catalog.partitions(table))
        if self.catalog is None and not self.path.exists():
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
        sources: Iterable[TableSource],
        schema: pa.Schema,
        params: dict | None = None,
        ordered: bool = False,
        concurrency: int = 1,
    ) -> int:
        """Replace `domain`'s rows of the Parquet-backed `table` with the rows of `sources`
        (SELECTs over warehouse tables or frames, each written by DuckDB to one Parquet file);
        returns the rows written. Rows keep their order only with `ordered`; `concurrency`
        SELECTs are copied at once. `sources` may be a generator of frames: each is drawn when
        its file is written, so a domain's rows need not be in memory at once. For tables that
        are written whole per domain and then only read: see `core.file_tables`."""
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
        if self.catalog is not None:
            write = (table, domain, sources, params, schema, None)
            return self._catalog_write([write], ordered, concurrency)[0]
        with self.connect() as con:
            return file_tables.write_files(
                con, self.files_root, table, domain, sources, params, schema, ordered, concurrency
            )

    def write_partitions(self, writes: Sequence[PartitionWrite]) -> list[int]:
        """Several `write_partition`s in one connection and one transaction (all or nothing);
        returns the rows written by each. Under a storage root, every write's files are made
        first and the pointers swapped after (one by one: a process killed between two swaps
        leaves some partitions new and some old; re-running the step makes them whole)."""
        if self.catalog is not None:
            return self._catalog_write(
                [(w.table, w.domain, [w.source], w.params, w.schema, w.scope) for w in writes],
                ordered=True,
            )
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
        if self.catalog is not None:
            return self._catalog_write([(table, domain, [source], params, schema, scope)], ordered)[
                0
            ]
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
            _add_missing_columns(con, qt)
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


def _add_missing_columns(con: duckdb.DuckDBPyConnection, qt: str) -> None:
    """Columns a table's declared schema gained since the table was made (`_recrm_empty`),
    added to it: null in the rows other partitions wrote before. A domain's rewrite then works
    in a warehouse built by an earlier version; columns are never dropped here."""
    have = {r[0] for r in con.execute(f"DESCRIBE {qt}").fetchall()}
    for name, column_type, *_ in con.execute("DESCRIBE SELECT * FROM _recrm_empty").fetchall():
        if name not in have:
            con.execute(f"ALTER TABLE {qt} ADD COLUMN {quote_ident(name)} {column_type}")


@dataclass(frozen=True)
class PartitionWrite:
    """One `write_partition` call, for `Warehouse.write_partitions`."""

    table: str
    domain: str
    source: TableSource
    schema: pa.Schema | None = None
    scope: dict[str, str] | None = None
    params: dict | None = None
