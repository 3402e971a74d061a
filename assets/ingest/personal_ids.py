"""Raw user ids (and other personal id values) written into free text: replaced by `[USER]`.

A user id is stored only as its keyed hash, so the raw ids of a domain are not kept anywhere to
search text for. Instead every id-shaped token of the text (letters and digits, `_` or `-`
inside) is hashed with the same key, and the tokens whose hash is a known user-id hash (this
table's own user ids, and those ingested before for the domain: users, requests, events) are
replaced where they stand as whole tokens. All set-based in DuckDB: distinct tokens, one HMAC
each, one join; then one `regexp_replace` per text column over the hit tokens. Short ids are
found like long ones (a user `42` makes every free-standing `42` in text `[USER]`: over-masking
is the safe side), except an extra field whose whole value is a number of up to three digits (a
flag or a count: Instacart's reorder flag `1` beside a user `1`).
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from assets.ingest.privacy import hashed
from core.sql import quote_ident

TOKEN = r"[A-Za-z0-9]+(?:[_\-][A-Za-z0-9]+)*"
USER_TOKEN = "[USER]"
_EDGE = "A-Za-z0-9_\\-"
# An extra field whose whole value is a number of up to three digits is a flag or a count (a
# reorder flag `1`, a quantity), not a user written into text: left as it is even where a user
# has that id (numeric ids 1..N would otherwise erase every such field).
_SMALL_NUMBER = "[0-9]{1,3}"


def hit_tokens(
    con: duckdb.DuckDBPyConnection,
    tables: dict[str, list[str]],
    hashes_sql: str,
    params: dict,
) -> list[str]:
    """Tokens of the given tables' text columns whose keyed hash is in `hashes_sql` (a SELECT of
    one column `h`)."""
    parts = [
        f"SELECT unnest(regexp_extract_all({_as_text(con, t, c)}, '{TOKEN}')) AS tok FROM {t}"
        for t, cols in tables.items()
        for c in cols
        if _has_column(con, t, c)
    ]
    if not parts:
        return []
    rows = con.execute(
        f"""
        WITH toks AS (SELECT DISTINCT tok FROM ({" UNION ALL ".join(parts)}))
        SELECT tok FROM toks WHERE {hashed("tok")} IN ({hashes_sql}) ORDER BY length(tok) DESC, tok
        """,
        params,
    ).fetchall()
    return [r[0] for r in rows]


def masked_select(
    con: duckdb.DuckDBPyConnection, relation: str, columns: list[str], tokens: list[str]
) -> tuple[str, dict] | None:
    """(SELECT of `relation` with each whole-token occurrence of `tokens` in `columns` replaced
    by `[USER]`, its parameters); None when there is nothing to replace."""
    kinds = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}
    columns = [c for c in columns if c in kinds]
    if not tokens or not columns:
        return None
    maps = {c for c in columns if kinds[c].startswith("MAP")}
    alternation = "|".join(tokens)  # tokens hold only letters, digits, `_` and `-`
    # A token ends at a character outside ids; a `.` counts as an end unless a digit follows it
    # (`42.5` is a price, not the user `42`), and as a start unless a digit precedes it.
    pattern = f"(^|^\\.|[^{_EDGE}.]|[^0-9]\\.)({alternation})($|\\.$|[^{_EDGE}.]|\\.[^0-9])"

    # Applied twice: two hits separated by one character share that character.
    def replaced(sql: str) -> str:
        once = f"regexp_replace({sql}, $p, '\\1{USER_TOKEN}\\3', 'g')"
        return f"regexp_replace({once}, $p, '\\1{USER_TOKEN}\\3', 'g')"

    sets = ", ".join(
        (
            f"map_from_entries(list_transform(map_entries({quote_ident(c)}), lambda e: "
            f"{{'key': e.key, 'value': CASE WHEN regexp_full_match(e.value, '{_SMALL_NUMBER}') "
            f"THEN e.value ELSE {replaced('e.value')} END}})) AS {quote_ident(c)}"
            if c in maps
            else f"{replaced(quote_ident(c))} AS {quote_ident(c)}"
        )
        for c in columns
    )
    return f"SELECT * REPLACE ({sets}) FROM {relation}", {"p": pattern}


def _has_column(con, table: str, column: str) -> bool:
    names = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {table}").fetchall()}
    return column in names


def _as_text(con, table: str, column: str) -> str:
    """The column as one text: a MAP's values (extra fields) joined by spaces."""
    kind = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM {table}").fetchall()}
    col = quote_ident(column)
    return f"array_to_string(map_values({col}), ' ')" if kind[column].startswith("MAP") else col


def known_user_hashes(con: duckdb.DuckDBPyConnection, domain: str) -> pa.Table:
    """The user-id hashes already in the warehouse for `domain` (column `h`)."""
    present = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.columns WHERE column_name = 'user_id_hash'"
        ).fetchall()
    }
    parts = [
        f"SELECT user_id_hash AS h FROM {quote_ident(t)} WHERE domain = $d"
        for t in ("raw_users", "raw_requests", "raw_events")
        if t in present
    ]
    if not parts:
        return pa.table({"h": pa.array([], pa.string())})
    return con.sql(
        f"SELECT DISTINCT h FROM ({' UNION ALL '.join(parts)}) WHERE h IS NOT NULL",
        params={"d": domain},
    ).to_arrow_table()
