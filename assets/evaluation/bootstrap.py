"""Seeded bootstrap intervals, and the paired comparison of two results on the same entries.

A resample draws the dimension's units (users for behaviour and ranking, entries otherwise) with
replacement, as many as there are: a row of multinomial counts, one per unit. The metrics of a
resample are those of the items weighted by their unit's count (`DimensionStats.metrics`), so
every resample costs a sparse matrix product, not a pass over the rows. The interval is the
percentile interval (2.5th and 97.5th percentiles of 1,000 resamples by default). The draws derive
from the seed and the dimension only: the same seed gives the same intervals, and two results on
the same entries see the same resamples (the paired comparison).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from assets.scoring.metrics import DimensionStats
from core.ids import derive_seed

RESAMPLES = 1000
CONFIDENCE = 0.95
# Most matrix cells a chunk of resamples may hold (weights, and one row per resample of the
# widest statistic): bounds memory at a few hundred MiB whatever the number of units.
_CHUNK_CELLS = 4_000_000


def resample_counts(
    n_units: int, resamples: int, seed: int, dimension: str, width: int = 0
) -> Iterator[np.ndarray]:
    """Chunks of multinomial unit counts, (r, n_units) each, `resamples` rows in all."""
    rng = np.random.default_rng(derive_seed(seed, "bootstrap", dimension))
    chunk = max(1, min(resamples, _CHUNK_CELLS // max(1, n_units, width)))
    uniform = np.full(n_units, 1.0 / n_units)
    done = 0
    while done < resamples:
        r = min(chunk, resamples - done)
        yield rng.multinomial(n_units, uniform, size=r).astype(float)
        done += r


def resampled_metrics(
    stats: DimensionStats, resamples: int = RESAMPLES, seed: int = 0
) -> dict[str, np.ndarray]:
    """Every metric of every resample: {metric: (resamples,)}."""
    parts: dict[str, list[np.ndarray]] = {}
    for counts in resample_counts(stats.n_units, resamples, seed, stats.dimension, stats.width):
        for name, values in stats.metrics(counts).items():
            parts.setdefault(name, []).append(values)
    return {name: np.concatenate(chunks) for name, chunks in parts.items()}


def _bounds(values: np.ndarray, confidence: float) -> tuple[float | None, float | None]:
    finite = values[~np.isnan(values)]
    if not len(finite):
        return None, None
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(finite, [tail, 100 - tail])
    return float(low), float(high)


def _number(value: float) -> float | None:
    return None if value is None or np.isnan(value) else float(value)


def intervals(
    stats: DimensionStats,
    resamples: int = RESAMPLES,
    seed: int = 0,
    confidence: float = CONFIDENCE,
) -> dict[str, dict[str, float | None]]:
    """{metric: {value, low, high}}: the point estimate and its bootstrap interval."""
    point = stats.point()
    boot = resampled_metrics(stats, resamples, seed) if resamples else {}
    out = {}
    for name, value in point.items():
        low, high = _bounds(boot[name], confidence) if name in boot else (None, None)
        out[name] = {"value": _number(value), "low": low, "high": high}
    return out


def paired_comparison(
    a: DimensionStats,
    b: DimensionStats,
    resamples: int = RESAMPLES,
    seed: int = 0,
    confidence: float = CONFIDENCE,
) -> dict[str, dict[str, float | None]]:
    """{metric: {a, b, difference, low, high, p_value}} of b - a on the same entries and units.

    Both results see the same resamples; `p_value` is the two-sided bootstrap p-value of "no
    difference" (twice the smaller share of resampled differences on either side of 0).
    """
    if not np.array_equal(a.units, b.units):
        raise ValueError(
            "a paired comparison needs the same units (users or entries) on both sides"
        )
    point_a, point_b = a.point(), b.point()
    diffs: dict[str, list[np.ndarray]] = {}
    width = max(a.width, b.width)
    for counts in resample_counts(a.n_units, resamples, seed, a.dimension, width):
        ma, mb = a.metrics(counts), b.metrics(counts)
        for name in ma:
            diffs.setdefault(name, []).append(mb[name] - ma[name])
    out = {}
    for name, value_a in point_a.items():
        d = np.concatenate(diffs[name]) if name in diffs else np.array([np.nan])
        low, high = _bounds(d, confidence)
        finite = d[~np.isnan(d)]
        p = min(1.0, 2 * min(np.mean(finite <= 0), np.mean(finite >= 0))) if len(finite) else None
        out[name] = {
            "a": _number(value_a),
            "b": _number(point_b[name]),
            "difference": _number(point_b[name] - value_a),
            "low": low,
            "high": high,
            "p_value": None if p is None else float(p),
        }
    return out
