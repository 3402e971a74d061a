"""Label distributions: one function for every place that counts labels (entry and benchmark
step metadata, the manifest, `recrm validate`'s check of the shards against it).

What is counted comes from the dimension registry (`schemas.dimensions`): the dimension's label
column, and for a ranking (label column `gold_ranking`) the number of candidates ranked. Keys are
the values as text ("0", "1", ...; "null" for a missing label), so a distribution reads the same
in the UI, the manifest and the card, which names them with the registry's `label_names`.
"""

from __future__ import annotations

import duckdb
import polars as pl

from core.sql import quote_ident
from schemas.dimensions import get_dimension


def label_key_sql(dimension: str) -> str:
    """The SQL expression a distribution of `dimension` counts (text)."""
    column = quote_ident(get_dimension(dimension).label_column)
    if get_dimension(dimension).metrics == "ranking":
        return f"CAST(len({column}) AS VARCHAR)"
    return f"CAST({column} AS VARCHAR)"


def label_distribution(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    dimension: str,
    by: str | None = None,
    where: str = "",
    params: dict | None = None,
) -> dict:
    """{label: rows} of `relation` (a table name or a parenthesized query) for `dimension`;
    with `by` (a column, e.g. "split"), {value of by: {label: rows}}. `where` filters rows."""
    group = f"{quote_ident(by)}, " if by else ""
    rows = con.execute(
        f"SELECT {group}{label_key_sql(dimension)} AS k, count(*) FROM {relation} "
        f"{f'WHERE {where}' if where else ''} GROUP BY ALL ORDER BY ALL",
        params or {},
    ).fetchall()
    if by is None:
        return {_key(k): int(n) for k, n in rows}
    out: dict[str, dict[str, int]] = {}
    for value, k, n in rows:
        out.setdefault(value, {})[_key(k)] = int(n)
    return out


def frame_label_distribution(frame: pl.DataFrame, dimension: str) -> dict[str, int]:
    """`label_distribution` of an entry frame held in memory."""
    if frame.height == 0:
        return {}
    con = duckdb.connect()
    try:
        # Only the label column: converting a whole entry frame to Arrow copies every text.
        label = get_dimension(dimension).label_column
        con.register("entries_frame", frame.select(label).to_arrow())
        return label_distribution(con, "entries_frame", dimension)
    finally:
        con.close()


def _key(k: str | None) -> str:
    return "null" if k is None else str(k)
