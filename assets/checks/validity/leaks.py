"""The leak audit: what of a held-out (validation or test) entry also sits in a train entry, of
the same dimension or any other, over the five benchmark tables of a release.

Measures (`measure` column), each a count of held-out units found on the train side:
- `users`: users (keyed hash) of held-out entries that have train entries. The split policy
  places each user in one split for every dimension and domain: expected 0.
- `responses`: verbatim agent responses of held-out instruction-following / factual-consistency
  entries that are also the response of a train entry. Expected 0 (one turn, one user).
- `user_item_pairs`: (user, item) pairs a held-out entry is about (the candidate, the
  candidates, the graded item, the evidence) found in a train entry, history included.
  Expected 0: a user's items are on one side.
- `query_item_pairs`: (query, item) pairs of held-out entries found in train entries. Short
  queries are shared by many users, so these recur across users by nature; since no train
  relevance label carries engagement, a twin teaches no held-out behaviour. Reported, not
  expected to be 0.
- `time_windows`: held-out entries not strictly later than the domain's latest train entry of
  any dimension. Expected 0: train lies before the domain's cut, held-out entries at or after it.
  Entry times: `context.ts` where the entry has it, else its request's time from
  `request_times` (domain, request_id, ts; the warehouse's `raw_requests`) when given.

`train_dimension` is a dimension, or `*` for the train side of every dimension together;
`share` = leaked / total (null when total is 0).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import duckdb
import polars as pl

from assets.checks.frames import relation_columns
from core.warehouse import Warehouse
from schemas.entries import DIMENSIONS

ANY = "*"
MEASURES = ("users", "responses", "user_item_pairs", "query_item_pairs", "time_windows")
LEAK_SCHEMA = {
    "measure": pl.String,
    "held_out_split": pl.String,
    "held_out_dimension": pl.String,
    "train_dimension": pl.String,
    "leaked": pl.Int64,
    "total": pl.Int64,
    "share": pl.Float64,
}
# Measures the split policy guarantees to be 0 (a gate can require it).
MUST_BE_ZERO = ("users", "responses", "user_item_pairs", "time_windows")

_USER = "provenance.user_id_hash"


def _unit_selects(dimension: str, relation: str, columns: set[str]) -> dict[str, str]:
    """measure -> SELECT (dimension, split, domain, key) of one dimension's units."""
    head = f"'{dimension}' AS dimension, split, domain"
    out: dict[str, str] = {}
    if "provenance" in columns:
        out["users"] = f"SELECT {head}, {_USER} AS key FROM {relation} WHERE {_USER} IS NOT NULL"
    if "response" in columns:
        out["responses"] = (
            f"SELECT {head}, response AS key FROM {relation} WHERE response IS NOT NULL"
        )
    items: list[str] = []  # item-id list expressions of what the entry is about
    if "candidate" in columns:
        items.append("[candidate.item_id]")
    if "candidates" in columns:
        items.append("list_transform(candidates, lambda c: c.item_id)")
    if "item" in columns:
        items.append("[item.item_id]")
    if "evidence" in columns:
        items.append("list_transform(evidence, lambda c: c.item_id)")
    about = f"list_concat({', '.join(items)})" if items else None
    history = "list_transform(history, lambda h: h.item_id)" if "history" in columns else None
    query = "context.query" if "context" in columns else ("query" if "query" in columns else None)
    if about and "provenance" in columns:
        # held-out side: the items the entry is about; train side: those and its history
        seen = f"list_concat({about}, {history})" if history else about
        out["user_item_pairs"] = (
            f"SELECT {head}, {_USER} || chr(31) || domain || chr(31) || i AS key FROM ("
            f"SELECT *, unnest(CASE WHEN split = 'train' THEN {seen} ELSE {about} END) AS i "
            f"FROM {relation}) WHERE {_USER} IS NOT NULL AND i IS NOT NULL"
        )
    if about and query:
        out["query_item_pairs"] = (
            f"SELECT {head}, domain || chr(31) || trim({query}) || chr(31) || i AS key FROM ("
            f"SELECT *, unnest({about}) AS i FROM {relation}) "
            f"WHERE {query} IS NOT NULL AND i IS NOT NULL"
        )
    return out


def _time_select(dimension: str, relation: str, columns: set[str], request_times: str | None):
    """SELECT (dimension, split, domain, entry_id, ts) of one dimension's timed entries."""
    head = f"'{dimension}' AS dimension, e.split, e.domain, e.entry_id"
    if "context" in columns:
        return f"SELECT {head}, e.context.ts AS ts FROM {relation} e WHERE e.context.ts IS NOT NULL"
    if request_times and "provenance" in columns:
        return (
            f"SELECT {head}, r.ts FROM {relation} e JOIN {request_times} r "
            "ON r.domain = e.domain AND r.request_id = e.provenance.request_id"
        )
    return None


def leak_audit(
    con: duckdb.DuckDBPyConnection,
    tables: Mapping[str, str],
    request_times: str | None = None,
) -> pl.DataFrame:
    """The leak measures (LEAK_SCHEMA) over `tables` (dimension -> relation: a table name or a
    `read_parquet(...)` call); `request_times` a relation of (domain, request_id, ts)."""
    units: dict[str, list[str]] = {m: [] for m in MEASURES}
    for dimension, relation in tables.items():
        columns = set(relation_columns(con, relation))
        for measure, select in _unit_selects(dimension, relation, columns).items():
            units[measure].append(select)
        timed = _time_select(dimension, relation, columns, request_times)
        if timed:
            units["time_windows"].append(timed)
    frames = [
        _overlap(con, measure, selects)
        for measure, selects in units.items()
        if measure != "time_windows" and selects
    ]
    if units["time_windows"]:
        frames.append(_time_windows(con, units["time_windows"]))
    out = pl.concat(frames) if frames else pl.DataFrame(schema=LEAK_SCHEMA)
    return out.with_columns(
        pl.when(pl.col("total") > 0).then(pl.col("leaked") / pl.col("total")).alias("share")
    ).cast(LEAK_SCHEMA)


def _overlap(con: duckdb.DuckDBPyConnection, measure: str, selects: list[str]) -> pl.DataFrame:
    union = "\nUNION ALL\n".join(selects)
    return con.sql(
        f"""
        WITH u AS MATERIALIZED ({union}),
        held AS (SELECT DISTINCT dimension, split, key FROM u WHERE split <> 'train'),
        train AS (SELECT DISTINCT dimension, key FROM u WHERE split = 'train'),
        totals AS (SELECT dimension, split, count(*) AS total FROM held GROUP BY ALL),
        per_dim AS (
            SELECT h.dimension, h.split, t.dimension AS train_dimension, count(*) AS leaked
            FROM held h JOIN train t ON t.key = h.key GROUP BY ALL
        ),
        any_dim AS (
            SELECT h.dimension, h.split, '{ANY}' AS train_dimension, count(*) AS leaked
            FROM held h SEMI JOIN train t ON t.key = h.key GROUP BY ALL
        ),
        train_dims AS (SELECT DISTINCT dimension AS train_dimension FROM train
                       UNION SELECT '{ANY}')
        SELECT '{measure}' AS measure, x.split AS held_out_split,
               x.dimension AS held_out_dimension, d.train_dimension,
               coalesce(p.leaked, a.leaked, 0) AS leaked, x.total
        FROM totals x CROSS JOIN train_dims d
        LEFT JOIN per_dim p ON p.dimension = x.dimension AND p.split = x.split
             AND p.train_dimension = d.train_dimension
        LEFT JOIN any_dim a ON a.dimension = x.dimension AND a.split = x.split
             AND a.train_dimension = d.train_dimension
        ORDER BY x.split, x.dimension, d.train_dimension = '{ANY}', d.train_dimension
        """
    ).pl()


def _time_windows(con: duckdb.DuckDBPyConnection, selects: list[str]) -> pl.DataFrame:
    union = "\nUNION ALL\n".join(selects)
    return con.sql(
        f"""
        WITH t AS MATERIALIZED ({union}),
        last_train AS (SELECT domain, max(ts) AS last_ts FROM t WHERE split = 'train'
                       GROUP BY domain)
        SELECT 'time_windows' AS measure, t.split AS held_out_split,
               t.dimension AS held_out_dimension, '{ANY}' AS train_dimension,
               count(*) FILTER (WHERE t.ts <= l.last_ts) AS leaked, count(*) AS total
        FROM t LEFT JOIN last_train l ON l.domain = t.domain
        WHERE t.split <> 'train'
        GROUP BY ALL
        ORDER BY held_out_split, held_out_dimension
        """
    ).pl()


def warehouse_leak_audit(wh: Warehouse) -> pl.DataFrame:
    """The audit of the warehouse's `benchmark_<dimension>` tables, with request times."""
    tables = {d: f'"benchmark_{d}"' for d in DIMENSIONS if wh.table_exists(f"benchmark_{d}")}
    times = "raw_requests" if wh.table_exists("raw_requests") else None
    with wh.connect(read_only=True) as con:
        return leak_audit(con, tables, times)


def release_leak_audit(release_dir: Path) -> pl.DataFrame:
    """The audit of a published release's shards (no request times: only the entries that
    carry their time are checked for time windows)."""
    root = Path(release_dir)
    tables = {
        d: f"read_parquet('{(root / d).as_posix()}/*.parquet')"
        for d in DIMENSIONS
        if any((root / d).glob("*.parquet"))
    }
    con = duckdb.connect()
    try:
        return leak_audit(con, tables)
    finally:
        con.close()


def leaks_found(audit: pl.DataFrame, measures: tuple[str, ...] = MUST_BE_ZERO) -> pl.DataFrame:
    """The rows of `measures` (any train dimension) with a leak."""
    return audit.filter(
        pl.col("measure").is_in(measures)
        & (pl.col("train_dimension") == ANY)
        & (pl.col("leaked") > 0)
    )
