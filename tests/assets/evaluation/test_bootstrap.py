"""The bootstrap: a resample is the items of the drawn units, repeated as often as drawn; the
draws follow the seed; the paired comparison sees the same resamples on both sides."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from assets.evaluation.bootstrap import (
    intervals,
    paired_comparison,
    resample_counts,
    resampled_metrics,
)
from assets.scoring.metrics import DimensionStats

RNG = np.random.default_rng(11)


def _classification_items(n: int = 120, users: int = 17, noise: float = 0.3) -> pl.DataFrame:
    gold = RNG.integers(0, 3, n)
    pred = np.where(RNG.random(n) < noise, RNG.integers(0, 3, n), gold)
    return pl.DataFrame(
        {
            "entry_id": [f"e{i:04d}" for i in range(n)],
            "unit": [f"u{i % users:02d}" for i in range(n)],
            "gold": gold,
            "prediction": pred,
            "score": np.round(RNG.random(n) + 0.4 * (gold >= 1), 2),
            "parsed_ok": RNG.random(n) > 0.05,
        }
    )


def _ranking_items(n: int = 40, users: int = 9) -> pl.DataFrame:
    levels = [RNG.choice([0, 0, 1, 2], int(RNG.integers(4, 9))).tolist() for _ in range(n)]
    scores = [RNG.integers(0, 4, len(lv)).astype(float).tolist() for lv in levels]
    return pl.DataFrame(
        {
            "entry_id": [f"r{i:04d}" for i in range(n)],
            "unit": [f"u{i % users}" for i in range(n)],
            "gold_levels": levels,
            "candidate_scores": scores,
            "parsed_ok": RNG.random(n) > 0.1,
        },
        schema_overrides={"gold_levels": pl.List(pl.Int8), "candidate_scores": pl.List(pl.Float64)},
    )


@pytest.mark.parametrize(
    "dimension, items",
    [("behavior_prediction", _classification_items()), ("item_ranking", _ranking_items())],
)
def test_a_resample_is_the_drawn_units_items_repeated(dimension, items):
    stats = DimensionStats(dimension, items)
    counts = next(resample_counts(stats.n_units, 3, seed=5, dimension=dimension))
    weighted = stats.metrics(counts)
    for r in range(3):
        # Build the resample explicitly: each unit's items, as many times as the unit was drawn.
        times = dict(zip(stats.units, counts[r].astype(int), strict=True))
        repeated = items.with_columns(
            times=pl.col("unit").replace_strict(times, return_dtype=pl.Int64)
        ).filter(pl.col("times") > 0)
        repeated = repeated.select(pl.exclude("times").repeat_by(repeated["times"]).explode())
        explicit = DimensionStats(dimension, repeated).point()
        for name, value in explicit.items():
            assert weighted[name][r] == pytest.approx(value, nan_ok=True), name


def test_units_are_resampled_whole():
    counts = np.vstack(list(resample_counts(40, 1000, seed=1, dimension="x")))
    assert counts.shape == (1000, 40)
    assert (counts.sum(axis=1) == 40).all()  # as many units as there are, with replacement


def test_the_same_seed_gives_the_same_intervals_and_another_seed_others():
    stats = DimensionStats("behavior_prediction", _classification_items())
    a, b = intervals(stats, 300, seed=7), intervals(stats, 300, seed=7)
    c = intervals(stats, 300, seed=8)
    assert a == b and a != c
    for figure in a.values():
        assert figure["low"] <= figure["value"] <= figure["high"]


def test_chunks_do_not_change_the_draws(monkeypatch):
    import assets.evaluation.bootstrap as bootstrap

    stats = DimensionStats("behavior_prediction", _classification_items())
    whole = resampled_metrics(stats, 200, seed=2)
    monkeypatch.setattr(bootstrap, "_CHUNK_CELLS", 50)  # one resample per chunk
    chunked = resampled_metrics(stats, 200, seed=2)
    for name in whole:
        np.testing.assert_array_equal(whole[name], chunked[name])


def test_a_paired_comparison_of_a_result_with_itself_is_zero():
    items = _classification_items()
    stats = DimensionStats("behavior_prediction", items)
    out = paired_comparison(stats, stats, 200, seed=0)
    for figure in out.values():
        assert figure["difference"] == 0 and figure["low"] == 0 == figure["high"]
        assert figure["p_value"] == 1.0


def test_a_clearly_better_result_wins_the_paired_comparison():
    items = _classification_items(n=400, noise=0.6)
    better = items.with_columns(prediction=pl.col("gold"), parsed_ok=pl.lit(True))
    out = paired_comparison(
        DimensionStats("behavior_prediction", items), DimensionStats("behavior_prediction", better)
    )
    assert out["acc"]["difference"] > 0 and out["acc"]["low"] > 0
    assert out["acc"]["p_value"] < 0.01


def test_a_paired_comparison_needs_the_same_units():
    a = DimensionStats("behavior_prediction", _classification_items(users=5))
    b = DimensionStats("behavior_prediction", _classification_items(users=6))
    with pytest.raises(ValueError, match="same units"):
        paired_comparison(a, b, 10)
