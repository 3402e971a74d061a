"""Validate one dimension's benchmark rows (a warehouse table or release shards) with its suite.

Up to CHUNK_ROWS rows the whole suite runs once on one frame. Above, memory and time stay
bounded by pre-screening (`assets.checks.prescreen`): DuckDB finds, set-based and in parallel,
the rows that could fail a row-level expectation, and GX validates those rows plus a fixed hash
sample of SAMPLE_ROWS rows (which keeps the column and type expectations evaluated on real
data). Rows left out pass every row-level expectation, so the merged outcome (counts over all
rows, failures, examples) equals a single run's.
- the `table` part (ids, labels, cross-row derived columns computed in DuckDB over every row):
  its aggregate expectations (row count, label mean) run on a frame of just their columns, every
  row; the others on the pre-screened rows (uniqueness: the repeated values);
- the `text` part (free text: prompts, responses, nested payloads as JSON; kilobytes per row)
  runs on the pre-screened rows in chunks of at most CHUNK_ROWS rows.
An expectation DuckDB cannot pre-screen (e.g. a text rule on a column that is not text) makes
every row of its part a candidate.
"""

from __future__ import annotations

import duckdb

from assets.checks.frames import benchmark_frame, benchmark_frame_sql, relation_columns, to_pandas
from assets.checks.prescreen import (
    CHUNK_ROWS,
    SAMPLE_ROWS,
    candidate_predicate,
    sample_predicate,
    split_aggregate,
)
from assets.checks.validation import SuiteOutcome, merge_outcomes, validate_frame
from core.sql import quote_ident
from schemas.expectations import benchmark_suite
from schemas.expectations.benchmark import nested_columns
from schemas.profiles import SizeProfile

ID_COLUMNS = ("entry_id",)


def validate_benchmark(
    con: duckdb.DuckDBPyConnection,
    dimension: str,
    relation: str,
    profile: SizeProfile,
    chunk_rows: int = CHUNK_ROWS,
    sample_rows: int = SAMPLE_ROWS,
) -> SuiteOutcome:
    rows = con.execute(f"SELECT count(*) FROM {relation}").fetchall()[0][0]
    if rows <= chunk_rows:
        frame = benchmark_frame(con, dimension, relation)
        return validate_frame(frame, benchmark_suite(dimension, profile), ID_COLUMNS)
    parts = _validate_table_part(con, dimension, relation, profile, rows, sample_rows)
    text_suite = benchmark_suite(dimension, profile, part="text")
    predicate = candidate_predicate(
        text_suite, relation_columns(con, relation), set(nested_columns(dimension))
    )
    if predicate is None:
        candidates = "true"
    else:
        candidates = f"({sample_predicate(rows, sample_rows, 'entry_id')}) OR ({predicate})"
    # One pass of the (regex-heavy) predicate over all rows; the chunks then select by id.
    chosen = con.sql(f"SELECT entry_id FROM {relation} WHERE {candidates}").to_arrow_table()
    con.register("_recrm_check_rows", chosen)
    try:
        buckets = max(1, -(-chosen.num_rows // chunk_rows))
        for bucket in range(buckets):
            where = (
                "(entry_id IN (SELECT entry_id FROM _recrm_check_rows) "
                f"OR (entry_id IS NULL AND ({candidates}))) "
                f"AND hash(entry_id) % {buckets} = {bucket}"
            )
            frame = benchmark_frame(con, dimension, relation, part="text", where=where)
            parts[f"text-{bucket:03d}"] = validate_frame(frame, text_suite, ID_COLUMNS)
            del frame
    finally:
        con.unregister("_recrm_check_rows")
    return merge_outcomes(f"benchmark_{dimension}", rows, parts)


def _validate_table_part(
    con: duckdb.DuckDBPyConnection,
    dimension: str,
    relation: str,
    profile: SizeProfile,
    rows: int,
    sample_rows: int,
) -> dict[str, SuiteOutcome]:
    """The `table` part: its aggregate expectations (row count, label mean) on a frame of just
    their columns, every row; the row-level ones (including uniqueness and the cross-row
    derived columns) on the pre-screened rows and a sample."""
    suite = benchmark_suite(dimension, profile, part="table")
    aggregate, row_level = split_aggregate(suite)
    present = set(relation_columns(con, relation))
    table_sql = benchmark_frame_sql(dimension, relation, present, "table")
    predicate = candidate_predicate(
        row_level, relation_columns(con, f"({table_sql})"), relation=relation
    )
    if predicate is None:
        frame = benchmark_frame(con, dimension, relation, "table")
        return {"table": validate_frame(frame, suite, ID_COLUMNS)}
    sample = sample_predicate(rows, sample_rows, "entry_id")
    chosen = con.sql(f"SELECT * FROM ({table_sql}) t WHERE ({sample}) OR ({predicate})")
    parts = {"table": validate_frame(to_pandas(chosen.to_arrow_table()), row_level, ID_COLUMNS)}
    if aggregate.expectations:
        named = sorted({e.column for e in aggregate.expectations if getattr(e, "column", None)})
        columns = ", ".join(quote_ident(c) for c in named if c in present) or "1 AS _row"
        whole = con.sql(f"SELECT {columns} FROM {relation}").to_arrow_table()
        parts["table-aggregate"] = validate_frame(to_pandas(whole), aggregate)
    return parts
