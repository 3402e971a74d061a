"""Validate one dimension's benchmark rows (a warehouse table or release shards) with its suite.

Up to CHUNK_ROWS rows the whole suite runs once on one frame. Above, memory and time stay
bounded:
- the `table` part (ids, labels, cross-row derived columns; small per row) runs once on every
  row;
- the `text` part (free text: prompts, responses, nested payloads as JSON; kilobytes per row) is
  row-local, so a row can only fail it alone. DuckDB first finds, set-based and in parallel, the
  rows that could fail one of its expectations (a null, a length outside the bounds, a match of
  the personal-data regex: the same engine-independent pattern GX applies); GX then validates
  those rows plus a fixed hash sample of SAMPLE_ROWS rows (which keeps the table-level and type
  expectations evaluated on real data), in chunks of at most CHUNK_ROWS rows. Rows left out
  pass every text expectation, so the merged outcome (counts over all rows, failures, examples)
  equals a single run's. A text expectation DuckDB cannot pre-screen (e.g. a column whose type is
  not text) makes every row a candidate.
"""

from __future__ import annotations

import duckdb

from assets.checks.frames import benchmark_frame, relation_columns
from assets.checks.validation import SuiteOutcome, merge_outcomes, validate_frame
from core.sql import quote_ident, sql_literal
from schemas.expectations import benchmark_suite
from schemas.expectations.benchmark import nested_columns, text_columns
from schemas.profiles import SizeProfile

CHUNK_ROWS = 50_000
SAMPLE_ROWS = 2_000
ID_COLUMNS = ("entry_id",)
_TEXT_TYPES = ("VARCHAR",)


def candidate_predicate(dimension: str, suite, types: dict[str, str]) -> str | None:
    """SQL predicate true for every row that could fail a row-level expectation of the `text`
    suite (a superset); None when some expectation cannot be pre-screened."""
    nested = set(nested_columns(dimension))
    text = set(text_columns(dimension))
    terms = []
    for exp in suite.expectations:
        kind = type(exp).__name__
        column = getattr(exp, "column", None)
        if kind == "ExpectTableColumnsToMatchSet":
            continue  # table-level: evaluated on every part
        if column not in text:
            return None
        if column not in types:
            continue  # missing column: every part reports it
        q = quote_ident(column)
        value = f"CAST(to_json({q}) AS VARCHAR)" if column in nested else q
        if kind == "ExpectColumnValuesToNotBeNull":
            terms.append(f"{q} IS NULL")
        elif kind == "ExpectColumnValuesToBeOfType":
            if column in nested or types[column] not in _TEXT_TYPES:
                return None
        elif kind == "ExpectColumnValueLengthsToBeBetween":
            # length() counts characters as pandas' str.len does; strlen() (bytes) >= characters,
            # so `strlen > max` is a superset of `length > max`.
            if exp.min_value is not None:
                terms.append(f"length({value}) < {int(exp.min_value)}")
            if exp.max_value is not None:
                terms.append(f"strlen({value}) > {int(exp.max_value)}")
        elif kind == "ExpectColumnValuesToNotMatchRegex":
            # RE2 spells the end of text `\z` (Python: `\Z`).
            regex = exp.regex.replace("\\Z", "\\z")
            terms.append(f"coalesce(regexp_matches({value}, {sql_literal(regex)}), false)")
        else:
            return None
    return " OR ".join(terms) if terms else "false"


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
    parts = {
        "table": validate_frame(
            benchmark_frame(con, dimension, relation, part="table"),
            benchmark_suite(dimension, profile, part="table"),
            ID_COLUMNS,
        )
    }
    text_suite = benchmark_suite(dimension, profile, part="text")
    predicate = candidate_predicate(dimension, text_suite, relation_columns(con, relation))
    if predicate is None:
        candidates = "true"
    else:
        sample = f"hash(entry_id) % {max(1, rows // max(1, sample_rows))} = 0"
        candidates = f"({sample}) OR ({predicate})"
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
