"""The paired comparison of two results of one release: b - a on the entries both scored, with
the same bootstrap resamples on both sides (bootstrap.paired_comparison)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from assets.evaluation.bootstrap import RESAMPLES, paired_comparison
from assets.evaluation.release import EvaluationError
from assets.evaluation.results import read_items, read_summary
from assets.scoring.metrics import DimensionStats
from schemas.entries import DIMENSIONS


def compare_results(
    folder_a: Path, folder_b: Path, seed: int = 0, resamples: int = RESAMPLES
) -> dict:
    summary_a, summary_b = read_summary(folder_a), read_summary(folder_b)
    if summary_a["release"]["manifest_sha256"] != summary_b["release"]["manifest_sha256"]:
        raise EvaluationError(
            f"{summary_a['name']!r} and {summary_b['name']!r} were computed on different releases"
        )
    items_a, items_b = read_items(folder_a), read_items(folder_b)
    out = {
        "a": summary_a["name"],
        "b": summary_b["name"],
        "release": summary_a["release"],
        "seed": seed,
        "resamples": resamples,
        "dimensions": {},
    }
    for dim in DIMENSIONS:
        a = items_a.filter(pl.col("dimension") == dim)
        b = items_b.filter(pl.col("dimension") == dim)
        common = a.select("entry_id").join(b.select("entry_id"), on="entry_id")
        if common.height == 0:
            continue
        a = a.join(common, on="entry_id").sort("entry_id")
        b = b.join(common, on="entry_id").sort("entry_id")
        out["dimensions"][dim] = {
            "entries": common.height,
            "metrics": paired_comparison(
                DimensionStats(dim, a), DimensionStats(dim, b), resamples, seed
            ),
        }
    if not out["dimensions"]:
        raise EvaluationError(
            f"{summary_a['name']!r} and {summary_b['name']!r} share no scored entry"
        )
    return out
