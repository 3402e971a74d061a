"""Warehouse tables stored as Parquet files beside the DuckDB file, read through a view.

The entry tables (entries, judged and benchmark tables of every dimension) are written whole per
domain by DuckDB's Parquet writer and then only read. Inserting those wide rows into DuckDB's own
storage as well cost as much again as rendering them (15 s for 55k ranking entries), so such a
table is a folder of Parquet files per domain plus a view over them:

- `<warehouse>.files/<table>/<domain>/<write id>/part-<n>.parquet` (`_all` for whole tables);
- the registry table `warehouse_files` (table_name, domain, path) lists the files in use;
- the view `<table>` reads exactly the registered files, so a folder left by a killed writer or
  by a deleted warehouse is never read.

A write makes its files in a new folder (with `concurrency` > 1, several SELECTs are copied at
once, each on its own connection to the instance), then swaps registry rows and view in one
transaction;
only after that commit are the domain's older folders removed. Readers use the view like any
table (`Warehouse.query`, `read_partition`, `count`). Paths in the view are absolute: moving
the warehouse means rebuilding these tables.

Under a storage root (`core.storage`, setting `storage_root`) every table is stored this way,
and the registry is the root's catalog (`core.catalog`: one pointer object per table partition)
instead of a table in a DuckDB file: `write_catalog_files` writes a partition's files and returns
its pointer, `create_views` makes a process-private DuckDB instance read the catalogued files.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa

from core.catalog import WHOLE_TABLE as CATALOG_WHOLE_TABLE
from core.catalog import Catalog, Entry, partition_key
from core.paths import PathRefused, check_domain, confined, private_dir
from core.sql import quote_ident, sql_literal
from core.storage import StorageRoot

REGISTRY = "warehouse_files"
# Row groups bounded in bytes: with DuckDB's default of 122,880 rows a row group of wide entries
# is ~500 MB per thread and the writer thrashes against the memory limit (815k behaviour entries:
# 13.0 s with the default, 4.2 s with 64 MB row groups).
COPY_OPTIONS = "FORMAT parquet, ROW_GROUP_SIZE_BYTES '64MB'"
WHOLE_TABLE = "_all"  # folder of a table that is not partitioned by domain


def duckdb_types(con: duckdb.DuckDBPyConnection, schema: pa.Schema) -> dict[str, str]:
    """DuckDB type of every column of an Arrow schema (as a DuckDB table created from it)."""
    con.register("_recrm_schema", schema.empty_table())
    try:
        rows = con.execute("DESCRIBE SELECT * FROM _recrm_schema").fetchall()
    finally:
        con.unregister("_recrm_schema")
    return {row[0]: row[1] for row in rows}


def cast_select(select_sql: str, schema: pa.Schema, types: dict[str, str]) -> str:
    """`select_sql` narrowed to the schema's columns, in its order and `types` (`duckdb_types`)."""
    columns = ", ".join(
        f"CAST(s.{quote_ident(n)} AS {types[n]}) AS {quote_ident(n)}" for n in schema.names
    )
    return f"SELECT {columns} FROM ({select_sql}) s"


def kind_of(con: duckdb.DuckDBPyConnection, table: str) -> str | None:
    """'BASE TABLE', 'VIEW' or None."""
    rows = con.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_name = ?", [table]
    ).fetchall()
    return rows[0][0] if rows else None


def is_file_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    if kind_of(con, REGISTRY) is None:
        return False
    rows = con.execute(f"SELECT count(*) FROM {REGISTRY} WHERE table_name = ?", [table]).fetchall()
    return bool(rows[0][0])


def _ensure_registry(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {REGISTRY} "
        "(table_name VARCHAR NOT NULL, domain VARCHAR NOT NULL, path VARCHAR NOT NULL)"
    )


def _copy(con, select_sql: str, path: Path | str, params: dict | None) -> None:
    """COPY to a local file (its folder made), or to an fs URI of a storage root (`s3://...`)."""
    if isinstance(path, Path):
        path.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"COPY ({select_sql}) TO {sql_literal(str(path))} ({COPY_OPTIONS})", params or {})


# Rows per Parquet file when a frame or Arrow table is written: each slice is converted to
# Arrow only while its file is written (a whole entries frame at once cost 3 GiB more at 4x the
# paper's input).
ROWS_PER_FILE = 25_000


def _sliced(sources: Iterable[str | pa.Table | pl.DataFrame]) -> Iterator:
    """`sources` with every frame or Arrow table cut into slices of ROWS_PER_FILE rows (zero
    copy), one file each; an empty one stays one (its file carries the schema). Lazy: a
    generator of frames is drawn one at a time, as its files are written."""
    for source in sources:
        if isinstance(source, str):
            yield source
            continue
        rows = source.num_rows if isinstance(source, pa.Table) else source.height
        for start in range(0, max(rows, 1), ROWS_PER_FILE):
            yield source.slice(start, ROWS_PER_FILE)


def _all_selects(sources: Iterable) -> bool:
    """Whether `sources` is a list of SELECTs (which can be copied concurrently)."""
    return isinstance(sources, Sequence) and all(isinstance(s, str) for s in sources)


@contextmanager
def _source_select(con, source: str | pa.Table | pl.DataFrame, n: int) -> Iterator[str]:
    """The SELECT of one source while its file is written: a frame is converted to Arrow and
    registered only for that time, so a write of many frame slices holds one slice's copy."""
    if isinstance(source, str):
        yield source
        return
    name = f"_recrm_source_{n}"
    con.register(name, source.to_arrow() if isinstance(source, pl.DataFrame) else source)
    try:
        yield f"SELECT * FROM {name}"
    finally:
        con.unregister(name)


def _copy_concurrently(
    con, selects: list[str], paths: list[Path] | list[str], params: dict | None, concurrency: int
) -> None:
    """COPY each SELECT to its path, `concurrency` at a time, each on its own connection to the
    instance. A COPY that runs out of DuckDB's memory next to the others is done again alone
    afterwards (the memory limit is the instance's, shared by the copies)."""
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        futures = [
            pool.submit(_copy_on_cursor, con, select_sql, path, params)
            for select_sql, path in zip(selects, paths, strict=True)
        ]
    again = []
    for future, select_sql, path in zip(futures, selects, paths, strict=True):
        error = future.exception()
        if isinstance(error, duckdb.OutOfMemoryException):
            again.append((select_sql, path))
        elif error is not None:
            raise error
    for select_sql, path in again:
        _copy(con, select_sql, path, params)


def _copy_on_cursor(con, select_sql: str, path: Path, params: dict | None) -> None:
    cursor = con.cursor()
    try:
        _copy(cursor, select_sql, path, params)
    finally:
        cursor.close()


def _refresh_view(con: duckdb.DuckDBPyConnection, table: str) -> None:
    paths = [
        r[0]
        for r in con.execute(
            f"SELECT path FROM {REGISTRY} WHERE table_name = ? ORDER BY domain, path", [table]
        ).fetchall()
    ]
    if not paths:
        con.execute(f"DROP VIEW IF EXISTS {quote_ident(table)}")
        return
    files = ", ".join(sql_literal(p) for p in paths)
    con.execute(
        f"CREATE OR REPLACE VIEW {quote_ident(table)} AS SELECT * FROM read_parquet([{files}])"
    )


def write_files(
    con: duckdb.DuckDBPyConnection,
    root: Path,
    table: str,
    domain: str | None,
    sources: Iterable[str | pa.Table | pl.DataFrame],
    params: dict | None,
    schema: pa.Schema,
    ordered: bool = False,
    concurrency: int = 1,
) -> int:
    """Replace `domain`'s rows of `table` (all rows with domain None) with the rows of
    `sources` (SELECTs over the warehouse, or Arrow tables), one Parquet file each, cast to
    `schema`; returns the rows now in that domain. With `ordered`, each file keeps its source's
    row order (reads return it); otherwise DuckDB writes on every thread in any order. With
    `concurrency` > 1, that many SELECTs are copied at once (their memory adds up). `sources`
    may be a generator (of frames, say): each is drawn when its file is written."""
    with insertion_order(con, ordered):
        return _write_files(con, root, table, domain, sources, params, schema, concurrency)


@contextmanager
def insertion_order(con: duckdb.DuckDBPyConnection, ordered: bool) -> Iterator[None]:
    """`preserve_insertion_order` as asked for the block, then back to DuckDB's default (true).
    The setting is global to a database instance, which the connections of a warehouse session
    share: left off, it would let a later read in the same step return rows out of order."""
    con.execute(f"SET preserve_insertion_order = {'true' if ordered else 'false'}")
    try:
        yield
    finally:
        con.execute("SET preserve_insertion_order = true")


def _write_files(con, root, table, domain, sources, params, schema, concurrency) -> int:
    key = WHOLE_TABLE if domain is None else check_domain(domain)
    # The domain comes from a partition key: the write folder must stay inside the table's.
    folder = confined(root, root / table / key / uuid.uuid4().hex, what="write folder")
    if not root.exists():
        private_dir(root)  # entries derived from personal data: owner-only, like the warehouse
    types = duckdb_types(con, schema)
    try:
        if concurrency > 1 and _all_selects(sources) and len(sources) > 1:
            paths = [folder / f"part-{n:05d}.parquet" for n in range(len(sources))]
            selects = [cast_select(s, schema, types) for s in sources]
            _copy_concurrently(con, selects, paths, params, concurrency)
        else:
            paths = []
            for n, source in enumerate(_sliced(sources)):
                paths.append(folder / f"part-{n:05d}.parquet")
                with _source_select(con, source, n) as select_sql:
                    _copy(con, cast_select(select_sql, schema, types), paths[-1], params)
        if not paths:
            raise ValueError(f"{table}: nothing to write (no source given)")
        files = [str(path.resolve()) for path in paths]
        listed = ", ".join(sql_literal(f) for f in files)
        rows = con.execute(f"SELECT count(*) FROM read_parquet([{listed}])").fetchall()[0][0]
        con.execute("BEGIN TRANSACTION")
        try:
            _ensure_registry(con)
            if kind_of(con, table) == "BASE TABLE":
                _adopt_base_table(con, root, table, domain)
            # A whole-table write replaces every domain's files.
            con.execute(
                f"DELETE FROM {REGISTRY} WHERE table_name = ? AND (domain = ? OR ? = ?)",
                [table, key, key, WHOLE_TABLE],
            )
            con.executemany(
                f"INSERT INTO {REGISTRY} VALUES (?, ?, ?)", [[table, key, f] for f in files]
            )
            _refresh_view(con, table)
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    _remove_other_folders(folder, root / table, whole_table=domain is None)
    return int(rows)


def _adopt_base_table(con, root: Path, table: str, domain: str | None) -> None:
    """A regular table of the same name (a warehouse written before `table` moved to files):
    keep its other domains' rows as files, then drop it."""
    if domain is not None:
        others = [
            r[0]
            for r in con.execute(
                f"SELECT DISTINCT domain FROM {quote_ident(table)} WHERE domain IS DISTINCT FROM ?",
                [domain],
            ).fetchall()
        ]
        for other in others:
            path = root / table / other / uuid.uuid4().hex / "part-00000.parquet"
            _copy(con, f"SELECT * FROM {quote_ident(table)} WHERE domain = $d", path, {"d": other})
            con.execute(
                f"INSERT INTO {REGISTRY} VALUES (?, ?, ?)", [table, other, str(path.resolve())]
            )
    con.execute(f"DROP TABLE {quote_ident(table)}")


def _remove_other_folders(kept: Path, table_folder: Path, whole_table: bool) -> None:
    """Remove the earlier write folders of the same table and domain (of every domain after a
    whole-table write): none of them is registered any more.

    Nothing outside `table_folder` is ever deleted: each candidate is checked to resolve inside
    it, and a symbolic link is removed as a link, never followed."""
    table_folder = table_folder.resolve()
    confined(table_folder, kept, what="write folder")
    stale = [p for p in kept.parent.iterdir() if p != kept]
    if whole_table:
        stale += [p for p in kept.parent.parent.iterdir() if p != kept.parent]
    for path in stale:
        if path.is_symlink():
            path.unlink()
            continue
        try:
            confined(table_folder, path, what="stale write folder")
        except PathRefused:
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)


def drop_files(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Forget a file-backed table inside the caller's transaction (its view and registry rows);
    its folder is removed by `remove_table_folder` after the commit."""
    con.execute(f"DELETE FROM {REGISTRY} WHERE table_name = ?", [table])
    con.execute(f"DROP VIEW IF EXISTS {quote_ident(table)}")


def remove_table_folder(root: Path, table: str) -> None:
    folder = root / table
    if folder.is_symlink():
        folder.unlink()
        return
    shutil.rmtree(confined(root, folder, what="table folder"), ignore_errors=True)


# -- tables under a storage root, listed by its catalog ----------------------------------------


class PartitionMismatch(ValueError):
    """Rows written to a domain's partition that carry another domain."""


def scope_predicate(scope: dict[str, str]) -> str:
    """`col = 'value' AND ...` (values as literals: the caller's params stay its own)."""
    return " AND ".join(
        f"{quote_ident(column)} IS NOT DISTINCT FROM {sql_literal(value)}"
        for column, value in scope.items()
    )


def _file_list(uris: Sequence[str]) -> str:
    return "[" + ", ".join(sql_literal(u) for u in uris) + "]"


def write_catalog_files(
    con: duckdb.DuckDBPyConnection,
    catalog: Catalog,
    table: str,
    domain: str | None,
    sources: Iterable[str | pa.Table | pl.DataFrame],
    params: dict | None,
    schema: pa.Schema | None,
    concurrency: int = 1,
    scope: dict[str, str] | None = None,
) -> tuple[Entry, int]:
    """Write the new content of `table`'s partition of `domain` (the whole table with None) as
    Parquet files in a new write folder of the catalog's root; returns its pointer (not yet put:
    the caller puts it, so that several writes can be made first) and the rows written.

    With `scope`, only the partition's rows matching it are replaced: the partition's other
    rows are kept, before the new ones (as DELETE + INSERT keeps them in a DuckDB table).
    The caller sets the row order (`insertion_order`). `sources` may be a generator: each is
    drawn when its file is written."""
    root: StorageRoot = catalog.root
    key = partition_key(domain)
    if scope and not (isinstance(sources, Sequence) and len(sources) == 1):
        raise ValueError(f"{table}: a scoped write takes one source")
    write_id, folder = catalog.new_write(table, key)
    types = duckdb_types(con, schema) if schema is not None else None
    try:
        if concurrency > 1 and _all_selects(sources) and len(sources) > 1:
            paths = [f"{folder}/part-{n:05d}.parquet" for n in range(len(sources))]
            uris = [root.uri(p) for p in paths]
            selects = [s if types is None else cast_select(s, schema, types) for s in sources]
            _copy_concurrently(con, selects, uris, params, concurrency)
        else:
            paths, uris = [], []
            # A scoped write stays one source: it is unioned with the rows it does not replace.
            for n, source in enumerate(sources if scope else _sliced(sources)):
                paths.append(f"{folder}/part-{n:05d}.parquet")
                uris.append(root.uri(paths[-1]))
                with _source_select(con, source, n) as select_sql:
                    if scope:
                        select_sql = _keep_out_of_scope(catalog, table, key, scope, select_sql)
                    if types is not None:
                        select_sql = cast_select(select_sql, schema, types)
                    _copy(con, select_sql, uris[-1], params)
        if not paths:
            raise ValueError(f"{table}: nothing to write (no source given)")
        total, rows = _check_written(con, table, uris, domain, scope)
    except BaseException:
        root.delete(folder)
        raise
    entry = Entry(table, key, tuple(root.relative(p) for p in paths), write_id, total)
    return entry, rows


def _keep_out_of_scope(catalog: Catalog, table: str, key: str, scope: dict, select_sql: str):
    """`select_sql` after the partition's current rows outside `scope` (a scoped write replaces
    only the rows matching it, as DELETE + INSERT would in a DuckDB table)."""
    old = catalog.get(table, key)
    if old is None or not old.files:
        return select_sql
    kept = (
        f"SELECT * FROM read_parquet({_file_list(catalog.file_uris(old))}) "
        f"WHERE NOT ({scope_predicate(scope)})"
    )
    return f"SELECT * FROM ({kept}) UNION ALL BY NAME SELECT * FROM ({select_sql})"


def _check_written(con, table: str, uris: list[str], domain: str | None, scope):
    """(rows in the files, rows written: those matching `scope` when given); refuses rows of
    another domain in a domain's partition, which every reader would take for that domain's."""
    files = f"read_parquet({_file_list(uris)})"
    columns = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {files}").fetchall()}
    counted = f"count(*) FILTER (WHERE {scope_predicate(scope)})" if scope else "count(*)"
    if domain is None or "domain" not in columns:
        total, rows = con.execute(f"SELECT count(*), {counted} FROM {files}").fetchall()[0]
        return int(total), int(rows)
    total, rows, foreign = con.execute(
        f"SELECT count(*), {counted}, count(*) FILTER (WHERE domain IS DISTINCT FROM $d) "
        f"FROM {files}",
        {"d": domain},
    ).fetchall()[0]
    if foreign:
        raise PartitionMismatch(
            f"{foreign} row(s) written to table {table}'s partition {domain!r} carry another "
            "domain (or none)"
        )
    return int(total), int(rows)


def merge_files(con: duckdb.DuckDBPyConnection, uris: Sequence[str], out: str) -> int:
    """Copy the rows of the Parquet files `uris` (in order) into the one file `out`; returns
    its rows. The caller sets the row order (`insertion_order`)."""
    _copy(con, f"SELECT * FROM read_parquet({_file_list(uris)}, union_by_name = true)", out, None)
    return con.execute(f"SELECT count(*) FROM read_parquet({sql_literal(out)})").fetchone()[0]


def create_views(
    con: duckdb.DuckDBPyConnection,
    catalog: Catalog,
    entries: Sequence[Entry],
    tables: set[str] | None = None,
) -> None:
    """A view per catalogued table (only `tables`, when given) over exactly its pointers' files,
    in partition order; a table with a view pointer gets that view (made after the file
    tables it may read). A table of `tables` with no pointer left loses its view."""
    by_table: dict[str, list[Entry]] = {}
    for entry in entries:
        if tables is None or entry.table in tables:
            by_table.setdefault(entry.table, []).append(entry)
    for name in tables or ():
        if name not in by_table:
            con.execute(f"DROP VIEW IF EXISTS {quote_ident(name)}")
    defined = []
    for name, found in sorted(by_table.items()):
        view = next((e.view for e in found if e.view is not None), None)
        if view is not None:
            defined.append((name, view))
            continue
        uris = [u for e in found for u in catalog.file_uris(e)]
        if not uris:  # an append-only table before its first file
            con.execute(f"DROP VIEW IF EXISTS {quote_ident(name)}")
            continue
        options = ", union_by_name = true" if len(uris) > 1 else ""
        con.execute(
            f"CREATE OR REPLACE VIEW {quote_ident(name)} AS "
            f"SELECT * FROM read_parquet({_file_list(uris)}{options})"
        )
    for name, view in defined:
        con.execute(f"CREATE OR REPLACE VIEW {quote_ident(name)} AS {view}")


def put_entries(catalog: Catalog, entries: Sequence[Entry]) -> None:
    """Make the pointers current, then remove what they replaced: a whole-table pointer
    replaces the table's partitions, and each partition's older write folders go."""
    for entry in entries:
        catalog.put(entry)
        if entry.partition == CATALOG_WHOLE_TABLE:
            for other in catalog.partitions(entry.table):
                if other != CATALOG_WHOLE_TABLE:
                    catalog.remove(entry.table, other)
        else:  # a partition's files replace a view the table was (a view spans every domain)
            whole = catalog.get(entry.table, CATALOG_WHOLE_TABLE)
            if whole is not None and whole.view is not None:
                catalog.remove(entry.table, CATALOG_WHOLE_TABLE)
    for entry in entries:
        if entry.partition == CATALOG_WHOLE_TABLE or entry.view is not None:
            catalog.sweep_table(entry.table, entry.partition if entry.view is None else None)
        if entry.view is None:
            catalog.sweep(entry.table, entry.partition, entry.write_id)
