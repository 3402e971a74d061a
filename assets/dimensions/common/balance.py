"""Class balance for the binary dimensions: how many negatives to synthesize, and a deterministic
downsampling of whichever class is over its target share.

Positives are label 1. Downsampling keeps the rows with the smallest seeded hash of their entry id,
so the same inputs and seed keep the same rows.
"""

from __future__ import annotations

import math

import polars as pl

from core.ids import with_stable_id


def negatives_needed(positives: int, negatives: int, positive_ratio: float) -> int:
    """Synthetic negatives that bring the negative share up to 1 - positive_ratio (0 if none)."""
    if not 0 < positive_ratio < 1:
        raise ValueError(f"positive_ratio must be in (0, 1), got {positive_ratio}")
    want = math.ceil(positives * (1 - positive_ratio) / positive_ratio - 1e-9)
    return max(0, want - negatives)


def balance(frame: pl.DataFrame, positive_ratio: float, seed: int, salt: str) -> pl.DataFrame:
    """Drop rows of the over-represented class (by seeded hash of entry_id) until the positive
    share is positive_ratio (rounded to whole rows). Row order is kept."""
    if not 0 < positive_ratio < 1:
        raise ValueError(f"positive_ratio must be in (0, 1), got {positive_ratio}")
    pos = int((frame["label"] == 1).sum())
    neg = frame.height - pos
    if pos == 0 or neg == 0:
        return frame
    keep_pos, keep_neg = pos, neg
    if pos / (pos + neg) > positive_ratio:
        keep_pos = min(pos, math.floor(neg * positive_ratio / (1 - positive_ratio) + 1e-9))
    else:
        keep_neg = min(neg, math.floor(pos * (1 - positive_ratio) / positive_ratio + 1e-9))
    if keep_pos == pos and keep_neg == neg:
        return frame
    ranked = with_stable_id(
        frame.with_columns(pl.lit(f"{seed}/{salt}").alias("_salt")),
        "_rank_key",
        "balance",
        ["_salt", "entry_id"],
    )
    ranked = ranked.with_columns(pl.col("_rank_key").rank("ordinal").over("label").alias("_rank"))
    kept = ranked.filter(
        pl.when(pl.col("label") == 1)
        .then(pl.col("_rank") <= keep_pos)
        .otherwise(pl.col("_rank") <= keep_neg)
    )
    return kept.drop("_salt", "_rank_key", "_rank")
