"""Raw user ids (and other personal id values) written into free text: replaced by `[USER]`.

A user id is stored only as its keyed hash, so the raw ids of a domain are not kept anywhere to
search text for. Instead every id-shaped token of the text (letters and digits, `_` or `-`
inside) is hashed with the same key, and the tokens whose hash is a known user-id hash (this
table's own user ids, and those ingested before for the domain: users, requests, events) are
replaced where they stand as whole tokens. All set-based in DuckDB: distinct tokens, one HMAC
each, one join; then one `regexp_replace` per text column over the hit tokens. Short ids are
found like long ones (a user `42` makes every free-standing `42` in text `[USER]`: over-masking
is the safe side).
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from assets.ingest.privacy import hashed
from core.sql import quote_ident

TOKEN = r"[A-Za-z0-9]+(?:[_\-][A-Za-z0-9]+)*"
USER_TOKEN = "[USER]"
_EDGE = "A-Za-z0-9_\\-"


def hit_tokens(
    con: duckdb.DuckDBPyConnection,
    tables: dict[str, list[str]],
    hashes_sql: str,
    params: dict,
) -> list[str]:
    """Tokens of the given tables' text columns whose keyed hash is in `hashes_sql` (a SELECT of
    one column `h`)."""
    parts = [
        f"SELECT unnest(regexp_extract_all({quote_ident(c)}, '{TOKEN}')) AS tok FROM {t}"
        for t, cols in tables.items()
        for c in cols
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


def replace_tokens(
    con: duckdb.DuckDBPyConnection, name: str, data: pa.Table, columns: list[str], tokens: list[str]
) -> pa.Table:
    """`data` with each whole-token occurrence of `tokens` in `columns` replaced by `[USER]`."""
    columns = [c for c in columns if c in data.column_names]
    if not tokens or not columns or data.num_rows == 0:
        return data
    alternation = "|".join(tokens)  # tokens hold only letters, digits, `_` and `-`
    pattern = f"(^|[^{_EDGE}])({alternation})($|[^{_EDGE}])"
    con.register(f"_{name}_in", data)
    try:
        # Applied twice: two hits separated by one character share that character.
        sets = ", ".join(
            f"regexp_replace(regexp_replace({quote_ident(c)}, $p, '\\1{USER_TOKEN}\\3', 'g'), "
            f"$p, '\\1{USER_TOKEN}\\3', 'g') AS {quote_ident(c)}"
            for c in columns
        )
        out = con.execute(
            f"SELECT * REPLACE ({sets}) FROM _{name}_in", {"p": pattern}
        ).to_arrow_table()
    finally:
        con.unregister(f"_{name}_in")
    return out.cast(data.schema)


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
    return con.execute(
        f"SELECT DISTINCT h FROM ({' UNION ALL '.join(parts)}) WHERE h IS NOT NULL", {"d": domain}
    ).to_arrow_table()
