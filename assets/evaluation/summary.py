"""The summary of an evaluation: every figure computed from the items table alone (plus the
configuration and the LLM usage, which the items do not hold), so any summary can be recomputed
from its items.parquet."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from assets.evaluation.bootstrap import CONFIDENCE, intervals
from assets.evaluation.release import Release, by_user
from assets.evaluation.spec import EvalSpec, data_version
from assets.scoring.metrics import DimensionStats
from schemas.entries import DIMENSIONS
from schemas.evaluation import METRICS


def dimension_figures(dimension: str, items: pl.DataFrame, seed: int, resamples: int) -> dict:
    """Counts, invalid rate, score sources and metrics with intervals of one dimension's items."""
    stats = DimensionStats(dimension, items)
    n = items.height
    invalid = int((~items["parsed_ok"]).sum())
    sources = items["score_source"].drop_nulls().value_counts(sort=True)
    by_source = {row[0]: int(row[1]) for row in sources.sort("score_source").iter_rows()}
    measured = intervals(stats, resamples, seed)
    return {
        "entries": n,
        "invalid": invalid,
        "invalid_rate": invalid / n if n else None,
        "unit": "user" if by_user(dimension) else "entry",
        "units": stats.n_units,
        # Where AUC's continuous score came from (mixed: several sources, see score_sources).
        "auc_source": next(iter(by_source))
        if len(by_source) == 1
        else ("mixed" if by_source else None),
        "score_sources": by_source,
        "metrics": {name: measured[name] for name in METRICS[dimension]},
    }


def all_figures(items: pl.DataFrame, seed: int, resamples: int) -> dict[str, dict]:
    """dimension -> figures, in the release contract's dimension order."""
    present = set(items["dimension"].unique())
    return {
        d: dimension_figures(d, items.filter(pl.col("dimension") == d), seed, resamples)
        for d in DIMENSIONS
        if d in present
    }


def build_summary(
    spec: EvalSpec,
    release: Release,
    items: pl.DataFrame,
    code: dict,
    llm_usage: dict | None = None,
    created_at: datetime | None = None,
) -> dict:
    created = (created_at or datetime.now(UTC)).astimezone(UTC)
    return {
        "name": spec.name,
        "created_at": created.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "release": {
            "version": release.version,
            "path": str(release.path),
            "manifest_sha256": release.manifest_sha256,
            "schema_version": release.manifest.get("schema_version"),
        },
        "scorer": spec.scorer.model_dump(mode="json", exclude_none=True),
        "evaluation": {
            "split": spec.split,
            "dimensions": sorted(set(items["dimension"]), key=DIMENSIONS.index),
            "limit": spec.limit,
            "seed": spec.seed,
            "bootstrap": {
                "resamples": spec.resamples,
                "confidence": CONFIDENCE,
                "method": "percentile; users resampled for behaviour and ranking, entries otherwise",
            },
        },
        "config_hash": spec.config_hash(),
        "data_version": data_version(spec, release.manifest_sha256),
        "code": code,
        "dimensions": all_figures(items, spec.seed, spec.resamples),
        "llm_usage": llm_usage,
    }
