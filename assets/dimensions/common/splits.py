"""Train / validation / test assignment for entry frames, the same way for every dimension.

Two policies, fixed per dimension in `schemas.entries`:
- by user (SPLIT_BY_USER): each `provenance.user_id_hash` is placed by a seeded hash of the user
  alone, so a user never lands in two splits, in any domain or any build with the same seed.
  Entries without a user hash are placed by their own `entry_id`.
- by time (SPLIT_BY_TIME): per domain, cut points at the time quantiles of `context.ts`; entries
  before the first cut are train, before the second validation, the rest test. A timestamp equal
  to a cut goes to the later split, so every test entry is strictly later than every train entry.
"""

from __future__ import annotations

import duckdb
import polars as pl

from core.ids import sql_unit_interval
from schemas.entries import SPLIT_BY_TIME, SPLIT_BY_USER, SPLITS, entry_schema


class SplitError(ValueError):
    pass


def check_fractions(fractions: dict[str, float]) -> list[float]:
    """The fractions in SPLITS order; fail on unknown names, negatives or a sum other than 1."""
    unknown = set(fractions) - set(SPLITS)
    if unknown:
        raise SplitError(f"unknown split names {sorted(unknown)}; known: {list(SPLITS)}")
    values = [float(fractions.get(s, 0.0)) for s in SPLITS]
    if any(v < 0 for v in values):
        raise SplitError(f"split fractions must not be negative: {fractions}")
    if abs(sum(values) - 1.0) > 1e-6:
        raise SplitError(f"split fractions must sum to 1, got {sum(values)}: {fractions}")
    return values


def _split_for_unit(unit: pl.Expr, values: list[float]) -> pl.Expr:
    """Map a value in [0, 1) to a split name by the cumulative fractions."""
    train_cut = values[0]
    val_cut = values[0] + values[1]
    return (
        pl.when(unit < train_cut)
        .then(pl.lit("train"))
        .when(unit < val_cut)
        .then(pl.lit("validation"))
        .otherwise(pl.lit("test"))
    )


def _by_user(frame: pl.DataFrame, dimension: str, seed: int, values: list[float]) -> pl.Series:
    if "provenance" not in frame.columns or "entry_id" not in frame.columns:
        raise SplitError(
            f"{dimension}: splitting by user needs `provenance` and `entry_id` columns"
        )
    keys = frame.select(
        pl.coalesce(
            pl.lit("u:") + pl.col("provenance").struct.field("user_id_hash"),
            pl.lit("e:") + pl.col("entry_id"),
        ).alias("unit_key")
    )
    distinct = keys.unique().sort("unit_key")
    con = duckdb.connect()
    try:
        con.register("units", distinct)
        salt = f"split/{seed}/{dimension}"
        placed = con.sql(
            f"SELECT unit_key, {sql_unit_interval(salt, ['unit_key'])} AS u FROM units"
        ).pl()
    finally:
        con.close()
    placed = placed.with_columns(_split_for_unit(pl.col("u"), values).alias("split"))
    return keys.join(placed, on="unit_key", how="left", maintain_order="left")["split"]


def _by_time(frame: pl.DataFrame, dimension: str, values: list[float]) -> pl.Series:
    if "context" not in frame.columns:
        raise SplitError(f"{dimension}: splitting by time needs a `context` column with `ts`")
    ts = frame.select(
        pl.col("context").struct.field("ts").alias("ts"),
        (pl.col("domain") if "domain" in frame.columns else pl.lit("")).alias("domain"),
    )
    nulls = ts["ts"].null_count()
    if nulls:
        raise SplitError(f"{dimension}: {nulls} entries have no context.ts; cannot split by time")
    train_q = values[0]
    val_q = values[0] + values[1]
    # Lower quantiles: the cut is a timestamp that occurs in the data, ties go to the later split.
    cuts = ts.group_by("domain").agg(
        pl.col("ts").quantile(train_q, interpolation="lower").alias("cut1"),
        pl.col("ts").quantile(val_q, interpolation="lower").alias("cut2"),
        pl.len().alias("n"),
    )
    joined = ts.join(cuts, on="domain", how="left", maintain_order="left")
    # A share of 1 takes everything, including the maximum timestamp the quantile lands on;
    # a share of 0 puts the cut at the minimum, so nothing is strictly before it.
    split = (
        pl.when(pl.lit(train_q >= 1.0) | (pl.col("ts") < pl.col("cut1")))
        .then(pl.lit("train"))
        .when(pl.lit(val_q >= 1.0) | (pl.col("ts") < pl.col("cut2")))
        .then(pl.lit("validation"))
        .otherwise(pl.lit("test"))
    )
    return joined.select(split.alias("split"))["split"]


def assign_splits(
    frame: pl.DataFrame, dimension: str, seed: int, fractions: dict[str, float]
) -> pl.DataFrame:
    """frame: entries in entry_schema(dimension) layout (its `split` column may be missing or
    null). By user (provenance.user_id_hash) for schemas.entries.SPLIT_BY_USER dimensions, by
    time (context.ts; test strictly later than train) for SPLIT_BY_TIME ones. Returns the frame
    with `split` filled."""
    values = check_fractions(fractions)
    if dimension in SPLIT_BY_USER:
        split = _by_user(frame, dimension, seed, values) if frame.height else None
    elif dimension in SPLIT_BY_TIME:
        split = _by_time(frame, dimension, values) if frame.height else None
    else:
        raise SplitError(f"dimension {dimension!r} has no split policy in schemas.entries")
    if split is None:
        split = pl.Series("split", [], dtype=pl.String)
    out = frame.with_columns(split.alias("split"))
    names = entry_schema(dimension).names
    if "split" not in frame.columns and all(n in out.columns for n in names):
        out = out.select(names + [c for c in out.columns if c not in names])
    return out
