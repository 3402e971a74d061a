"""Ingest one contract table of one domain: read, cast, check, anonymize, write.

The work happens in a private in-memory DuckDB database (set-based SQL over the whole table);
the results go to the warehouse through `Warehouse.write_partition`, which replaces exactly this
domain's rows (and, in the shared `quarantine` and `ingest_files` tables, only this table's), so
re-ingesting a domain never duplicates anything.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from assets.ingest.accepted import accepted_sql
from assets.ingest.cast import TimestampWindow, cast_table
from assets.ingest.discover import IngestError, ignored_files, table_files
from assets.ingest.mapping import apply_mapping, rename_columns
from assets.ingest.personal_ids import hit_tokens, known_user_hashes, masked_select
from assets.ingest.privacy import hashed, is_id, is_user_id, stored_name
from assets.ingest.quarantine import quarantine_sql
from assets.ingest.read import StagedFile, stage_file
from assets.ingest.reference import check_duplicates, check_references
from core.ids import hash_params
from core.paths import check_domain
from core.sql import quote_ident, sql_literal
from core.warehouse import PartitionWrite, Warehouse, duckdb_memory_limit
from schemas.domain import load_domain_settings
from schemas.logs import (
    CONTRACT_TABLES,
    FILE_SUFFIXES,
    QUARANTINE_SCHEMA,
    QUARANTINE_TABLE,
    REQUIRED_TABLES,
    ContractTable,
)
from schemas.tables import INGEST_FILES, INGEST_FILES_SCHEMA

INGEST_FILES_TABLE = INGEST_FILES.name


@dataclass
class IngestResult:
    domain: str
    table: str
    read: int = 0
    accepted: int = 0
    quarantined: int = 0
    files: list[dict] = field(default_factory=list)  # path, format, sha256, rows_read
    reasons: dict[str, int] = field(default_factory=dict)  # quarantine reason kind -> records
    absent: bool = False  # an optional table with no file in the drop
    # Files that look like this table's but are not read (`events.tsv`, `events.parquet.gz`).
    ignored: dict[str, str] = field(default_factory=dict)
    ignored_records: int = 0  # records of event types the domain's mapping leaves out on purpose


def ingest_table(
    warehouse: Warehouse,
    logs_root: Path,
    domain: str,
    table: ContractTable,
    hash_key: str,
    window: TimestampWindow | None = None,
    personal_columns: tuple[str, ...] = (),
) -> IngestResult:
    """Ingest `table` of `domain` from `<logs_root>/<domain>/` into the warehouse, through the
    domain's source mapping (`domain.toml`, assets/ingest/mapping.py).

    `window`: plausible timestamps (default 2000-01-01 to now + 1 day); `personal_columns`: id
    columns besides the user ids whose raw values must not appear in free text."""
    check_domain(domain)
    mapping = load_domain_settings(logs_root, domain)
    stem = mapping.file_stem(table.name)
    files = table_files(logs_root, domain, stem)
    if not files and table.name in REQUIRED_TABLES:
        raise IngestError(
            f"{logs_root / domain}: no file for required table {table.name!r} "
            f"(expected {stem}.<{'|'.join(s.lstrip('.') for s in FILE_SUFFIXES)}>)"
        )
    known = _known_keys(warehouse, domain, table) if files else {}  # absent: nothing to check
    known_hashes = _known_user_hashes(warehouse, domain)
    result = IngestResult(domain, table.name, absent=not files)
    stems = [mapping.file_stem(t) for t in CONTRACT_TABLES]
    result.ignored = {
        name: why
        for name, why in ignored_files(logs_root, domain, stems).items()
        if name.lower().startswith(stem.lower())
    }
    with tempfile.TemporaryDirectory(prefix="recrm-ingest-") as work_folder:
        work = Path(work_folder)
        # A private database, bounded like the warehouse's (DuckDB's own default is 80% of the
        # machine: 5.0 GB for food_delivery's impressions at 10x); large tables spill into the
        # work folder, not the current one.
        spill = str(work / "spill")
        con = duckdb.connect(
            config={"temp_directory": spill, "memory_limit": duckdb_memory_limit()}
        )
        try:
            con.execute("SET TimeZone = 'UTC'")
            staged = [stage_file(con, f, i, work) for i, f in enumerate(files)]
            for s in staged:
                rename_columns(con, s, table.name, mapping.table_mapping(table.name))
            _require_columns(staged, table)
            _require_records(staged, table)
            columns = _union(con, staged)
            result.ignored_records = apply_mapping(con, "_staged", table, mapping, domain, columns)
            cast_table(con, "_staged", "_checked", table, columns, window)
            con.execute("DROP TABLE _staged")
            if files:
                check_references(con, "_checked", table, domain, known)
            check_duplicates(con, "_checked", table, hash_key)
            extra = [c for c in columns if c not in table.columns]
            csv_positions = {
                c: {s.file.relpath: s.columns.index(c) + 1 for s in staged if c in s.columns}
                for c in columns
                if is_user_id(c) and any(s.file.format == "csv" for s in staged)
            }
            # The accepted and quarantined rows go to Parquet files in the work folder, never
            # into Python: at 10x of the paper's input, food_delivery's 14.2M impressions held
            # as Arrow took 5.0 GB; the warehouse reads the files.
            quarantined = quarantine_sql("_checked", table.name, columns, csv_positions)
            files = {
                "_accepted": _copy_out(con, "accepted", accepted_sql("_checked", table, extra),
                                       domain, hash_key, work),
                "_quarantine": _copy_out(con, "quarantine", quarantined, domain, hash_key, work),
            }  # fmt: skip
            accepted, quarantine = _mask_personal_ids(
                con, table, columns, known_hashes, hash_key, personal_columns, files
            )
            kinds = con.execute(
                "SELECT trim(regexp_extract(_reason, '^[A-Za-z -]+')) AS kind, count(*) FROM _checked "
                "WHERE _reason IS NOT NULL GROUP BY kind ORDER BY kind"
            ).fetchall()
            result.accepted, result.quarantined = (_rows(con, f) for f in (accepted, quarantine))
        finally:
            con.close()
        result.read = sum(s.rows_read for s in staged)
        result.reasons = dict(kinds)
        assert result.read == result.accepted + result.quarantined + result.ignored_records, (
            f"{domain}/{table.name}: read {result.read} != accepted {result.accepted} "
            f"+ quarantined {result.quarantined} + ignored {result.ignored_records}"
        )
        result.files = [
            {
                "path": s.file.relpath,
                "format": s.file.format + (".gz" if s.file.gzip else ""),
                "sha256": s.sha256,
                "rows_read": s.rows_read,
            }
            for s in staged
        ]
        warehouse.write_partitions(
            [
                PartitionWrite(
                    table.warehouse_table, domain, _read_sql(accepted),
                    schema=table.warehouse_schema(),
                ),
                PartitionWrite(
                    QUARANTINE_TABLE, domain, _read_sql(quarantine), QUARANTINE_SCHEMA,
                    {"table_name": table.name},
                ),
                PartitionWrite(
                    INGEST_FILES_TABLE,
                    domain,
                    _files_table(result),
                    INGEST_FILES_SCHEMA,
                    {"table_name": table.name},
                ),
            ]
        )  # fmt: skip
    return result


def _copy_out(
    con: duckdb.DuckDBPyConnection, name: str, sql: str, domain: str, hash_key: str, work: Path
) -> Path:
    """The rows of `sql` to `<work>/<name>.parquet` (in its order), readable as view `_<name>`;
    returns the file."""
    params = {"domain": domain}
    if "$hash_ipad" in sql:
        params |= hash_params(hash_key)
    path = work / f"{name}.parquet"
    con.execute(f"COPY ({sql}) TO {sql_literal(str(path))} (FORMAT parquet)", params)
    con.execute(f"CREATE VIEW _{name} AS {_read_sql(path)}")
    return path


def _rows(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    (count,) = con.execute(
        f"SELECT count(*) FROM read_parquet({sql_literal(str(path))})"
    ).fetchone()
    return count


def _read_sql(path: Path) -> str:
    """The rows of a Parquet file of the work folder, as a source for the warehouse's write."""
    return f"SELECT * FROM read_parquet({sql_literal(str(path))})"


def _files_table(result: IngestResult) -> pa.Table:
    return pa.table(
        {
            "domain": [result.domain] * len(result.files),
            "table_name": [result.table] * len(result.files),
            "path": [f["path"] for f in result.files],
            "sha256": [f["sha256"] for f in result.files],
            "rows_read": [f["rows_read"] for f in result.files],
        },
        schema=INGEST_FILES_SCHEMA,
    )


def _known_user_hashes(warehouse: Warehouse, domain: str) -> pa.Table:
    if not warehouse.exists():
        return pa.table({"h": pa.array([], pa.string())})
    with warehouse.connect(read_only=True) as con:
        return known_user_hashes(con, domain)


def _mask_personal_ids(
    con, table, columns, known_hashes, hash_key, personal_columns, files: dict[str, Path]
) -> tuple[Path, Path]:
    """Raw user ids (and values of `personal_columns`) in free text -> `[USER]`
    (`personal_ids`): the ids are this table's own and the domain's ingested ones. `files`: the
    views `_accepted` and `_quarantine` -> their files; returns the files of their masked rows
    (the same files where nothing is masked)."""
    own = [c for c in columns if is_user_id(c) or c in personal_columns]
    con.register("_known_user_hashes", known_hashes)
    hashes_sql = "SELECT h FROM _known_user_hashes" + "".join(
        f" UNION ALL SELECT {hashed(quote_ident(c))} AS h FROM _checked" for c in own
    )
    text = [
        stored_name(c)
        for c, t in table.columns.items()
        if pa.types.is_string(t) and not is_id(c) and not is_user_id(c)
    ]
    masked = {"_accepted": [*text, "extra"], "_quarantine": ["reason", "raw"]}
    try:
        tokens = hit_tokens(con, masked, hashes_sql, hash_params(hash_key))
    finally:
        con.unregister("_known_user_hashes")
    out = []
    for relation, text_columns in masked.items():
        path = files[relation]
        replaced = masked_select(con, relation, text_columns, tokens)
        if replaced is not None:  # a second copy only when there is something to mask
            select, params = replaced
            path = path.with_name(f"{path.stem}_masked.parquet")
            con.execute(f"COPY ({select}) TO {sql_literal(str(path))} (FORMAT parquet)", params)
        out.append(path)
    return out[0], out[1]


def _known_keys(warehouse: Warehouse, domain: str, table: ContractTable) -> dict[str, pa.Table]:
    """The accepted keys of each referenced table, which must have been ingested for `domain`."""
    refs = {ref: col for _, ref, col in table.references}
    if not refs:
        return {}
    known = {}
    with warehouse.connect(read_only=warehouse.exists()) as con:
        for ref, col in refs.items():
            ingested = (
                con.execute(
                    "SELECT count(*) FROM information_schema.tables WHERE table_name = $t",
                    {"t": INGEST_FILES_TABLE},
                ).fetchall()[0][0]
                and con.execute(
                    f"SELECT count(*) FROM {INGEST_FILES_TABLE} WHERE domain = $d AND table_name = $t",
                    {"d": domain, "t": ref},
                ).fetchall()[0][0]
            )
            if not ingested:
                raise IngestError(
                    f"ingest/{ref} has not been materialized for domain {domain!r}: "
                    "ingest it first (its keys are needed for the referential checks)"
                )
            known[ref] = con.sql(
                f'SELECT DISTINCT "{col}" FROM {CONTRACT_TABLES[ref].warehouse_table} '
                "WHERE domain = $d",
                params={"d": domain},
            ).to_arrow_table()
    return known


def _require_columns(staged: list[StagedFile], table: ContractTable) -> None:
    """A file without a required column breaks the contract as a whole, in every format: for
    JSON Lines, a required key that no line of the file has (a key missing from some lines only
    is a missing value of those records, quarantined one by one)."""
    for s in staged:
        if not s.columns:
            continue
        lacking = [c for c in table.required if c not in s.columns]
        if lacking:
            has = ", ".join(s.columns[:20]) + (", ..." if len(s.columns) > 20 else "")
            what = "no line of the file has the key(s)" if s.file.format == "jsonl" else "column(s)"
            raise IngestError(
                f"{s.file.relpath} lacks the required {what} {', '.join(lacking)} "
                f"of table {table.name!r} (it has {has})"
            )


def _require_records(staged: list[StagedFile], table: ContractTable) -> None:
    """A required table whose files hold no record (0 bytes, or a header only) would let every
    dependent row be quarantined as pointing nowhere: fail instead, naming the files."""
    if table.name not in REQUIRED_TABLES or not staged:
        return
    if sum(s.rows_read for s in staged) == 0:
        names = ", ".join(s.file.relpath for s in staged)
        kind = (
            "is empty"
            if all(s.file.path.stat().st_size == 0 for s in staged)
            else ("holds no records (a header only)")
        )
        raise IngestError(f"{names} {kind}: the required table {table.name!r} needs records")


def _union(con: duckdb.DuckDBPyConnection, staged: list[StagedFile]) -> list[str]:
    """Stack the files' records into `_staged`; returns the data columns (first-seen order)."""
    columns: list[str] = []
    for s in staged:
        columns += [c for c in s.columns if c not in columns]
    if staged:
        union = " UNION ALL BY NAME ".join(f"SELECT * FROM {s.table}" for s in staged)
        con.execute(f"CREATE TEMP TABLE _staged AS {union}")
        for s in staged:
            con.execute(f"DROP TABLE {s.table}")
    else:
        con.execute(
            "CREATE TEMP TABLE _staged (_file VARCHAR, _file_idx INTEGER, _row BIGINT, "
            "_error VARCHAR, _raw VARCHAR)"
        )
    return columns
