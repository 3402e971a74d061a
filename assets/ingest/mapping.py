"""A domain's source mapping (`domain.toml`, schemas/domain.py) applied to staged records.

Runs between reading and casting, on the staged text columns, all in SQL:
- `rename_columns`: each file's source columns get their contract names (`[tables.<t>.columns]`);
- `fill_defaults`:  optional columns absent or empty take the domain's default;
- `map_event_types`: source event types become contract ones (`[events] map`), the types listed
  in `[events] ignore` are taken out and counted, and any other type stops the ingest with the
  values, their counts and the first file and row of each: a purchase must never be counted as
  a click because its name was unknown.
"""

from __future__ import annotations

import duckdb

from assets.ingest.discover import IngestError
from assets.ingest.read import StagedFile
from core.sql import quote_ident, sql_literal
from schemas.domain import DOMAIN_FILE, DomainSettings, TableMapping
from schemas.logs import EVENT_TYPES, ContractTable

UNKNOWN_SHOWN = 10  # unknown event types named in the error


def rename_columns(
    con: duckdb.DuckDBPyConnection, staged: StagedFile, table: str, mapping: TableMapping
) -> None:
    """Rename the mapped source columns of one staged file to their contract names."""
    for contract_col, source_col in mapping.columns.items():
        if source_col == contract_col:
            continue
        if source_col not in staged.columns:
            if staged.file.format == "jsonl":
                continue  # a key no record has: every record lacks it, cast says so per record
            raise IngestError(
                f"{staged.file.relpath}: {DOMAIN_FILE} maps {table}.{contract_col} to column "
                f"{source_col!r}, which the file lacks (has {', '.join(staged.columns)})"
            )
        if contract_col in staged.columns:
            raise IngestError(
                f"{staged.file.relpath}: has both {contract_col!r} and {source_col!r}, which "
                f"{DOMAIN_FILE} maps to {contract_col!r}: drop one or the mapping"
            )
        con.execute(
            f"ALTER TABLE {staged.table} RENAME COLUMN {quote_ident(source_col)} "
            f"TO {quote_ident(contract_col)}"
        )
        staged.columns[staged.columns.index(source_col)] = contract_col


def fill_defaults(
    con: duckdb.DuckDBPyConnection, staged: str, mapping: TableMapping, columns: list[str]
) -> None:
    """Absent or empty values of defaulted columns take the default (parse errors stay)."""
    for col, value in mapping.defaults.items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        if col not in columns:
            con.execute(f"ALTER TABLE {staged} ADD COLUMN {quote_ident(col)} VARCHAR")
            columns.append(col)
        v = quote_ident(col)
        con.execute(
            f"UPDATE {staged} SET {v} = {sql_literal(text)} "
            f"WHERE _error IS NULL AND ({v} IS NULL OR trim({v}) = '')"
        )


def map_event_types(
    con: duckdb.DuckDBPyConnection, staged: str, settings: DomainSettings, domain: str
) -> int:
    """Map and filter the staged events' types; returns the number of records ignored."""
    mapping, ignore = settings.events.map, settings.events.ignore
    known = set(EVENT_TYPES) | set(mapping) | set(ignore)
    known_list = "[" + ", ".join(sql_literal(t) for t in sorted(known)) + "]"
    unknown = con.execute(
        f"""
        SELECT trim(event_type) AS t, count(*) AS n, arg_min(_file, (_file_idx, _row)),
               min_by(_row, (_file_idx, _row))
        FROM {staged}
        WHERE _error IS NULL AND event_type IS NOT NULL AND trim(event_type) <> ''
          AND NOT list_contains({known_list}, trim(event_type))
        GROUP BY t ORDER BY n DESC, t
        """
    ).fetchall()
    if unknown:
        shown = "; ".join(
            f"{t!r}: {n:,} record(s), first {f} row {r}" for t, n, f, r in unknown[:UNKNOWN_SHOWN]
        )
        more = f" and {len(unknown) - UNKNOWN_SHOWN} more" if len(unknown) > UNKNOWN_SHOWN else ""
        raise IngestError(
            f"{domain}/events: unknown event type(s) {shown}{more}. Map each to one of "
            f"{', '.join(EVENT_TYPES)} under [events] map, or leave it out under [events] "
            f"ignore, in {domain}/{DOMAIN_FILE}"
        )
    ignored = 0
    if ignore:
        ignore_list = "[" + ", ".join(sql_literal(t) for t in ignore) + "]"
        where = f"_error IS NULL AND list_contains({ignore_list}, trim(event_type))"
        ignored = con.execute(f"SELECT count(*) FROM {staged} WHERE {where}").fetchall()[0][0]
        con.execute(f"DELETE FROM {staged} WHERE {where}")
    if mapping:
        cases = " ".join(f"WHEN {sql_literal(s)} THEN {sql_literal(t)}" for s, t in mapping.items())
        con.execute(
            f"UPDATE {staged} SET event_type = CASE trim(event_type) {cases} END "
            f"WHERE _error IS NULL AND list_contains("
            f"[{', '.join(sql_literal(s) for s in mapping)}], trim(event_type))"
        )
    return ignored


def apply_mapping(
    con: duckdb.DuckDBPyConnection,
    staged: str,
    table: ContractTable,
    settings: DomainSettings,
    domain: str,
    columns: list[str],
) -> int:
    """Defaults and (for events) event types on the stacked records; returns records ignored."""
    fill_defaults(con, staged, settings.table_mapping(table.name), columns)
    if table.name == "events" and "event_type" in columns:
        return map_event_types(con, staged, settings, domain)
    return 0
