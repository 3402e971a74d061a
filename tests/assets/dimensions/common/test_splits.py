from datetime import datetime, timedelta

import polars as pl
import pytest

from assets.dimensions.common.splits import SplitError, assign_splits

FRACTIONS = {"train": 0.8, "validation": 0.1, "test": 0.1}


def _user_frame(n_users: int = 400, per_user: int = 5) -> pl.DataFrame:
    rows = [
        (f"e{u}_{k}", "hotel" if u % 2 else "food_delivery", f"user{u:04d}")
        for u in range(n_users)
        for k in range(1 + (u % per_user))
    ]
    return pl.DataFrame(
        {
            "entry_id": [r[0] for r in rows],
            "domain": [r[1] for r in rows],
            "provenance": [{"user_id_hash": r[2], "request_id": None} for r in rows],
        }
    )


def _time_frame(n: int = 1000, domains=("hotel", "food_delivery")) -> pl.DataFrame:
    start = datetime(2026, 1, 1)
    rows = []
    for d in domains:
        for i in range(n):
            # Many exact ties: 10 entries share each timestamp.
            rows.append((f"{d}{i}", d, start + timedelta(minutes=i // 10)))
    return pl.DataFrame(
        {
            "entry_id": [r[0] for r in rows],
            "domain": [r[1] for r in rows],
            "context": [{"query": "q", "ts": r[2]} for r in rows],
        }
    )


def test_by_user_never_puts_a_user_in_two_splits():
    out = assign_splits(_user_frame(), "query_item_relevance", 1, FRACTIONS)
    per_user = out.group_by(pl.col("provenance").struct.field("user_id_hash")).agg(
        pl.col("split").n_unique().alias("k")
    )
    assert per_user["k"].max() == 1
    assert set(out["split"]) == {"train", "validation", "test"}


def test_by_user_fractions_are_respected_approximately():
    frame = _user_frame(n_users=3000, per_user=1)
    shares = assign_splits(frame, "instruction_following", 5, FRACTIONS)["split"].value_counts(
        normalize=True
    )
    got = dict(zip(shares["split"], shares["proportion"], strict=True))
    for name, target in FRACTIONS.items():
        assert abs(got[name] - target) < 0.03, got


def test_by_user_is_deterministic_and_depends_on_seed():
    frame = _user_frame()
    a = assign_splits(frame, "factual_consistency", 11, FRACTIONS)
    b = assign_splits(
        frame.sample(fraction=1.0, shuffle=True, seed=3), "factual_consistency", 11, FRACTIONS
    )
    assert a.equals(assign_splits(frame, "factual_consistency", 11, FRACTIONS))
    # The same user gets the same split whatever the row order.
    assert a.sort("entry_id").equals(b.sort("entry_id"))
    c = assign_splits(frame, "factual_consistency", 12, FRACTIONS)
    assert not a["split"].equals(c["split"])


def test_by_user_without_user_hash_falls_back_to_entry():
    frame = pl.DataFrame(
        {
            "entry_id": [f"e{i}" for i in range(50)],
            "domain": ["hotel"] * 50,
            "provenance": [{"user_id_hash": None, "request_id": None}] * 50,
        },
        schema_overrides={
            "provenance": pl.Struct({"user_id_hash": pl.String, "request_id": pl.String})
        },
    )
    out = assign_splits(frame, "query_item_relevance", 1, FRACTIONS)
    assert out["split"].null_count() == 0
    assert out["split"].n_unique() > 1


@pytest.mark.parametrize("dimension", ["behavior_prediction", "item_ranking"])
def test_by_time_test_strictly_later_than_train_per_domain(dimension):
    out = assign_splits(_time_frame(), dimension, 1, FRACTIONS).with_columns(
        pl.col("context").struct.field("ts").alias("ts")
    )
    for (domain,), part in out.group_by("domain"):
        bounds = part.group_by("split").agg(
            pl.col("ts").min().alias("lo"), pl.col("ts").max().alias("hi")
        )
        b = {r["split"]: r for r in bounds.iter_rows(named=True)}
        assert b["train"]["hi"] < b["validation"]["lo"], domain
        assert b["validation"]["hi"] < b["test"]["lo"], domain
        shares = part["split"].value_counts(normalize=True)
        got = dict(zip(shares["split"], shares["proportion"], strict=True))
        for name, target in FRACTIONS.items():
            assert abs(got[name] - target) < 0.02, got


def test_by_time_ties_at_a_cut_go_to_the_later_split():
    start = datetime(2026, 1, 1)
    # 8 early entries, then 4 entries at the same instant that straddle the 80% quantile.
    ts = [start + timedelta(hours=i) for i in range(7)] + [start + timedelta(days=2)] * 3
    frame = pl.DataFrame(
        {
            "entry_id": [f"e{i}" for i in range(10)],
            "domain": ["hotel"] * 10,
            "context": [{"ts": t} for t in ts],
        }
    )
    out = assign_splits(frame, "behavior_prediction", 1, FRACTIONS)
    tied = out.filter(pl.col("context").struct.field("ts") == start + timedelta(days=2))
    assert tied["split"].n_unique() == 1
    assert tied["split"][0] in {"validation", "test"}
    assert (out["split"] == "train").sum() == 7


def test_by_time_edge_fractions_and_errors():
    frame = _time_frame(n=50, domains=("hotel",))
    all_train = assign_splits(frame, "item_ranking", 1, {"train": 1.0})
    assert set(all_train["split"]) == {"train"}
    all_test = assign_splits(frame, "item_ranking", 1, {"test": 1.0})
    assert set(all_test["split"]) == {"test"}
    with pytest.raises(SplitError, match="sum to 1"):
        assign_splits(frame, "item_ranking", 1, {"train": 0.5, "test": 0.2})
    with pytest.raises(SplitError, match="unknown split"):
        assign_splits(frame, "item_ranking", 1, {"dev": 1.0})
    no_ts = frame.with_columns(
        pl.lit(None).cast(pl.Struct({"ts": pl.Datetime("us")})).alias("context")
    )
    with pytest.raises(SplitError, match="no context.ts"):
        assign_splits(no_ts, "item_ranking", 1, FRACTIONS)


def test_split_column_is_filled_in_place_and_empty_frames_pass():
    frame = _user_frame(20, 1).with_columns(pl.lit(None, dtype=pl.String).alias("split"))
    out = assign_splits(frame, "query_item_relevance", 1, FRACTIONS)
    assert out.columns == frame.columns
    assert out["split"].null_count() == 0
    empty = assign_splits(frame.head(0), "query_item_relevance", 1, FRACTIONS)
    assert empty.height == 0 and "split" in empty.columns
