"""Referential and duplicate-key checks, set-based, on records that passed casting.

Impressions and events must point to requests and items of the same domain, agent turns to
requests, annotations to items (`ContractTable.references`). Of records sharing a key, the first
in file order (file name, then row) is kept and the others are quarantined, naming the first.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from assets.ingest.cast import REASON_VALUE_CHARS
from assets.ingest.privacy import is_user_id, stored_name, stored_text
from core.ids import hash_params
from core.sql import quote_ident, sql_literal
from schemas.logs import ContractTable

ENTITY = {"requests": "request", "items": "item", "users": "user"}


def check_references(
    con: duckdb.DuckDBPyConnection,
    target: str,
    table: ContractTable,
    domain: str,
    known: dict[str, pa.Table],
) -> None:
    """Quarantine records whose reference is unknown. `known[ref_table]` holds the referenced
    table's accepted keys for this domain, one column named like the referenced column."""
    for col, ref_table, ref_col in table.references:
        name = f"_known_{ref_table}"
        con.register(name, known[ref_table])
        reason = (
            f"{sql_literal(f'unknown {ENTITY.get(ref_table, ref_table)}: {col}=')} || '''' || "
            f"left(t.{quote_ident(col)}, {REASON_VALUE_CHARS}) || '''' || "
            f"{sql_literal(f' is not in {ref_table} of domain {domain}')}"
        )
        con.execute(
            f"""
            UPDATE {target} AS t SET _reason = {reason}
            WHERE t._reason IS NULL AND t.{quote_ident("_t_" + col)} IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM {name} k
                              WHERE k.{quote_ident(ref_col)} = t.{quote_ident("_t_" + col)})
            """
        )
        con.unregister(name)


def check_duplicates(
    con: duckdb.DuckDBPyConnection, target: str, table: ContractTable, hash_key: str
) -> None:
    """Quarantine every record but the first (file order) of each key. A user id in the key
    is shown hashed in the reason."""
    if not table.key:
        return
    keys = ", ".join(quote_ident("_t_" + c) for c in table.key)
    quote = "''''"  # SQL for a single quote character
    shown = " || ', ' || ".join(
        f"{sql_literal(stored_name(c) + '=')} || {quote} || "
        f"left(coalesce({stored_text(c, 't.' + quote_ident(c))}, ''), {REASON_VALUE_CHARS}) "
        f"|| {quote}"
        for c in table.key
    )
    params = hash_params(hash_key) if any(is_user_id(c) for c in table.key) else {}
    con.execute(
        f"""
        UPDATE {target} AS t
        SET _reason = 'duplicate key: ' || {shown} || ' (first at ' || d.first_file || ' row '
                      || d.first_row || ')'
        FROM (
            SELECT rowid AS rid,
                   row_number() OVER w AS n,
                   first_value(_file) OVER w AS first_file,
                   first_value(_row) OVER w AS first_row
            FROM {target} SEMI JOIN (
                -- Only keys that occur more than once are ranked: usually very few.
                SELECT {keys} FROM {target} WHERE _reason IS NULL
                GROUP BY ALL HAVING count(*) > 1
            ) dup USING ({keys})
            WHERE _reason IS NULL
            WINDOW w AS (PARTITION BY {keys} ORDER BY _file_idx, _row)
        ) d
        WHERE t.rowid = d.rid AND d.n > 1
        """,
        params,
    )
