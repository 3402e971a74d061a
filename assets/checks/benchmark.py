"""Validate one dimension's benchmark rows (a warehouse table or release shards) with its suite.

Up to CHUNK_ROWS rows the whole suite runs once on one frame. Above, memory stays bounded: the
`table` part (ids, labels, cross-row derived columns; small per row) runs once on every row,
and the `text` part (free text: prompts, responses, nested payloads as JSON; kilobytes per row)
runs on hash buckets of about CHUNK_ROWS rows each, and the outcomes are merged. Every
expectation of the text part is row-local, so the merged outcome equals a single run's.
"""

from __future__ import annotations

import duckdb

from assets.checks.frames import benchmark_frame
from assets.checks.validation import SuiteOutcome, merge_outcomes, validate_frame
from schemas.expectations import benchmark_suite
from schemas.profiles import SizeProfile

CHUNK_ROWS = 200_000
ID_COLUMNS = ("entry_id",)


def validate_benchmark(
    con: duckdb.DuckDBPyConnection,
    dimension: str,
    relation: str,
    profile: SizeProfile,
    chunk_rows: int = CHUNK_ROWS,
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
    buckets = -(-rows // chunk_rows)
    text_suite = benchmark_suite(dimension, profile, part="text")
    for bucket in range(buckets):
        where = f"hash(entry_id) % {buckets} = {bucket}"
        frame = benchmark_frame(con, dimension, relation, part="text", where=where)
        parts[f"text-{bucket:03d}"] = validate_frame(frame, text_suite, ID_COLUMNS)
        del frame
    return merge_outcomes(f"benchmark_{dimension}", rows, parts)
