"""Judge-prompt inputs as text columns, computed set-based in DuckDB over the entry frame.

Items are described exactly as the dimension prompts describe them (`item_text_sql`), so a judge
sees the evidence the way the reward model will.
"""

from __future__ import annotations

import duckdb
import polars as pl

from assets.dimensions.common.text import item_text_sql

NO_CONSTRAINTS = "(none)"
NO_EVIDENCE = "(no items)"

_EXPRESSIONS = {
    "item_text": lambda: item_text_sql("item"),
    "evidence_text": lambda: (
        f"CASE WHEN coalesce(len(evidence), 0) = 0 THEN '{NO_EVIDENCE}' ELSE "
        f"array_to_string(list_transform(evidence, lambda e: {item_text_sql('e')}), chr(10)) END"
    ),
    "constraints_text": lambda: (
        f"CASE WHEN coalesce(len(constraints), 0) = 0 THEN '{NO_CONSTRAINTS}' ELSE "
        "array_to_string(list_transform(constraints, lambda c: '- ' || c.type || ': ' || "
        "coalesce(c.params, '{}')), chr(10)) END"
    ),
}


def with_text(frame: pl.DataFrame, *names: str) -> pl.DataFrame:
    """`frame` plus the named text columns (item_text, evidence_text, constraints_text)."""
    unknown = set(names) - set(_EXPRESSIONS)
    if unknown:
        raise KeyError(f"unknown text columns {sorted(unknown)}; known: {sorted(_EXPRESSIONS)}")
    if not names:
        return frame
    select = ", ".join(f"{_EXPRESSIONS[n]()} AS {n}" for n in names)
    con = duckdb.connect()
    try:
        con.register("frame", frame.to_arrow())
        texts = pl.from_arrow(con.sql(f"SELECT {select} FROM frame").to_arrow_table())
    finally:
        con.close()
    return frame.with_columns(texts)
