"""The pandas frames the expectation suites validate, built set-based in DuckDB.

GX 1.x validates pandas, not DuckDB or polars (see stack-facts.md), so each check first selects
what its suite needs, computes the cross-row derived columns documented in
`schemas.expectations.benchmark` with window functions, and converts the result once.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pyarrow as pa

from core.sql import quote_ident
from schemas.entries import TIMED_DIMENSIONS, entry_schema
from schemas.expectations.benchmark import nested_columns, text_columns

# Nullable pandas dtypes keep integer and boolean columns typed when they hold nulls (a numpy
# conversion would turn them into floats or objects and break the type expectations).
_PANDAS_TYPES = {
    pa.int8(): pd.Int8Dtype(),
    pa.int16(): pd.Int16Dtype(),
    pa.int32(): pd.Int32Dtype(),
    pa.int64(): pd.Int64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
}


def to_pandas(table: pa.Table) -> pd.DataFrame:
    return table.to_pandas(types_mapper=_PANDAS_TYPES.get)


def suite_columns(suite) -> list[str]:
    """The columns a suite's expectations name (`column`, `column_list`), first seen first. Not
    for suites with table-level column expectations (they need every column)."""
    seen: list[str] = []
    for exp in suite.expectations:
        for column in (getattr(exp, "column", None), *(getattr(exp, "column_list", None) or ())):
            if column and column not in seen:
                seen.append(column)
    return seen


def relation_columns(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    """Column name -> DuckDB type of a relation (a table name or a table function call)."""
    rows = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    return {r[0]: r[1] for r in rows}


def benchmark_frame_sql(
    dimension: str, relation: str, present: set[str], part: str = "all", where: str | None = None
) -> str:
    """SELECT computing the frame of `benchmark_suite(dimension, part=part)` over `relation`.

    Only columns present are selected or derived from, so a table missing a column still yields
    a frame and the suite reports the missing column instead of the query failing. The `text`
    part is entry_id and the free-text columns only (no cross-row columns), so `where` may
    restrict it to a chunk of rows.
    """
    nested = set(nested_columns(dimension))
    text = set(text_columns(dimension))
    select = []
    for name in entry_schema(dimension).names:
        if name not in present:
            continue
        if (part == "table" and name in text) or (
            part == "text" and name not in text and name != "entry_id"
        ):
            continue
        q = quote_ident(name)
        if name == "provenance" and part == "table":
            # The table suite only needs provenance present and non-null (its ids are derived
            # columns below); its JSON would be the widest column of a frame of every row.
            select.append(f"CASE WHEN {q} IS NULL THEN NULL ELSE 'struct' END AS {q}")
        elif name in nested or name == "provenance":
            select.append(f"CAST(to_json({q}) AS VARCHAR) AS {q}")
        else:
            select.append(q)
    filter_sql = f" WHERE {where}" if where else ""
    if part == "text":
        return f"SELECT {', '.join(select)} FROM {relation}{filter_sql}"
    if where:
        raise ValueError("only the text part of a suite can be validated on a subset of rows")
    if "provenance" in present:
        select.append("provenance.user_id_hash AS user_id_hash")
        if "split" in present:
            select.append(
                "CASE WHEN provenance.user_id_hash IS NULL THEN NULL ELSE "
                "count(DISTINCT split) OVER (PARTITION BY provenance.user_id_hash) END "
                "AS user_split_count"
            )
    if dimension in TIMED_DIMENSIONS and {"history", "context"} <= present:
        select.append(
            "CASE WHEN context.ts IS NULL THEN false "
            "WHEN history IS NULL OR len(history) = 0 THEN true "
            "ELSE coalesce(list_bool_and(list_transform(history, "
            "lambda h: h.ts IS NOT NULL AND h.ts < context.ts)), false) END AS history_before_request"
        )
        if {"split", "domain"} <= present:
            select.append(
                "CASE WHEN split IN ('validation', 'test') THEN context.ts > max(CASE WHEN "
                "split = 'train' THEN context.ts END) OVER (PARTITION BY domain) END "
                "AS test_after_train"
            )
    if {"gold_ranking", "candidates"} <= present:
        ids = "list_transform(candidates, lambda c: c.item_id)"
        select.append(
            "coalesce(len(gold_ranking) > 0 "
            "AND len(list_distinct(gold_ranking)) = len(gold_ranking) "
            f"AND len(gold_ranking) = len({ids}) "
            f"AND list_has_all({ids}, gold_ranking), false) AS ranking_is_permutation"
        )
        if "candidate_labels" in present:
            # One engagement level per candidate, and the gold ranking is the candidates sorted
            # by it: its levels never rise (within a tie its order carries nothing).
            select.append(
                f"coalesce(len(candidate_labels) = len({ids}) "
                "AND list_bool_and(list_transform(candidate_labels, lambda x: x BETWEEN 0 AND 2)) "
                "AND list_transform(gold_ranking, "
                f"lambda g: candidate_labels[list_position({ids}, g)]) "
                "= list_reverse_sort(candidate_labels), false) AS candidate_labels_match"
            )
    return f"SELECT {', '.join(select)} FROM {relation}"


def benchmark_frame(
    con: duckdb.DuckDBPyConnection,
    dimension: str,
    relation: str,
    part: str = "all",
    where: str | None = None,
) -> pd.DataFrame:
    """The frame of `benchmark_suite(dimension, part=part)` over a table or `read_parquet(...)`."""
    present = set(relation_columns(con, relation))
    sql = benchmark_frame_sql(dimension, relation, present, part, where)
    return to_pandas(con.sql(sql).to_arrow_table())
