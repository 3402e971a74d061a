"""The release-wide split policy: users placed once, train before the domain's cut, held-out
splits at or after it; what falls outside its user's window is held out."""

import math
from datetime import datetime, timedelta

import polars as pl
import pytest

from assets.dimensions.common.splits import (
    DomainSplit,
    SplitError,
    SplitPolicy,
    assign_splits,
    domain_cut,
)
from core.warehouse import Warehouse

FRACTIONS = {"train": 0.8, "validation": 0.1, "test": 0.1}
START = datetime(2026, 1, 1)


def _frame(n_users: int = 600, per_user: int = 20, timed: bool = True) -> pl.DataFrame:
    """Each user active over the whole period; entries every few hours."""
    rows = []
    for u in range(n_users):
        for k in range(per_user):
            ts = START + timedelta(hours=7 * k + u % 5)
            rows.append((f"e{u}_{k}", "hotel", f"user{u:04d}", ts))
    frame = pl.DataFrame(
        {
            "entry_id": [r[0] for r in rows],
            "domain": [r[1] for r in rows],
            "provenance": [{"user_id_hash": r[2], "request_id": None} for r in rows],
        }
    )
    if timed:
        frame = frame.with_columns(pl.Series("context", [{"query": "q", "ts": r[3]} for r in rows]))
    return frame


def _cut(frame: pl.DataFrame, policy: SplitPolicy) -> datetime:
    ts = frame["context"].struct.field("ts")
    return ts.quantile(policy.time_quantile, interpolation="lower")


def _split(frame: pl.DataFrame, seed: int = 1, fractions=FRACTIONS) -> pl.DataFrame:
    policy = SplitPolicy.build(seed, fractions)
    cut = _cut(frame, policy) if policy.time_quantile is not None else None
    return assign_splits(frame, "behavior_prediction", DomainSplit(policy, cut))


def test_policy_parameters_keep_the_asked_shares():
    policy = SplitPolicy.build(1, FRACTIONS)
    q = policy.time_quantile
    assert q == pytest.approx(math.sqrt(0.8) / (math.sqrt(0.8) + math.sqrt(0.2)))
    users = policy.user_shares
    assert sum(users) == pytest.approx(1.0)
    kept = [users[0] * q, users[1] * (1 - q), users[2] * (1 - q)]
    assert [k / sum(kept) for k in kept] == pytest.approx([0.8, 0.1, 0.1])
    assert policy.expected_kept == pytest.approx(sum(kept))
    assert SplitPolicy.build(1, {"train": 1.0}).time_quantile is None


def test_a_user_is_in_one_split_and_train_lies_before_every_held_out_entry():
    out = _split(_frame())
    placed = out.filter(pl.col("split").is_not_null())
    per_user = placed.group_by(pl.col("provenance").struct.field("user_id_hash")).agg(
        pl.col("split").n_unique().alias("k")
    )
    assert per_user["k"].max() == 1
    ts = placed.with_columns(pl.col("context").struct.field("ts").alias("ts"))
    last_train = ts.filter(pl.col("split") == "train")["ts"].max()
    assert ts.filter(pl.col("split") != "train")["ts"].min() > last_train
    # Held out: a train user's entries after the cut, a held-out user's before it.
    held = out.filter(pl.col("split").is_null())
    assert 0 < held.height < out.height


def test_kept_entries_come_out_in_the_asked_fractions():
    out = _split(_frame(n_users=3000, per_user=10))
    placed = out.filter(pl.col("split").is_not_null())
    shares = dict(placed["split"].value_counts(normalize=True).iter_rows())
    for name, target in FRACTIONS.items():
        assert abs(shares[name] - target) < 0.03, shares
    kept = placed.height / out.height
    assert abs(kept - SplitPolicy.build(1, FRACTIONS).expected_kept) < 0.05


def test_the_same_user_gets_the_same_group_in_every_dimension_and_order():
    frame = _frame(200, 5)
    policy = SplitPolicy.build(11, FRACTIONS)
    split = DomainSplit(policy, None)  # no cut: only the user groups
    a = assign_splits(frame, "behavior_prediction", split)
    b = assign_splits(
        frame.sample(fraction=1.0, shuffle=True, seed=3).drop("context"),
        "instruction_following",
        split,
    )
    assert (
        a.select("entry_id", "split")
        .sort("entry_id")
        .equals(b.select("entry_id", "split").sort("entry_id"))
    )
    c = assign_splits(
        frame, "behavior_prediction", DomainSplit(SplitPolicy.build(12, FRACTIONS), None)
    )
    assert not a["split"].equals(c["split"])


def test_entries_without_user_or_time():
    frame = pl.DataFrame(
        {
            "entry_id": [f"e{i}" for i in range(60)],
            "domain": ["hotel"] * 60,
            "provenance": [{"user_id_hash": None, "request_id": None}] * 60,
            "request_ts": [None] * 60,
        },
        schema_overrides={
            "provenance": pl.Struct({"user_id_hash": pl.String, "request_id": pl.String}),
            "request_ts": pl.Datetime("us"),
        },
    )
    split = DomainSplit(SplitPolicy.build(1, FRACTIONS), START)
    out = assign_splits(frame, "query_item_relevance", split, time_column="request_ts")
    # No user and no time: nothing of anyone's to leak; placed by the entry id, never held out.
    assert out["split"].null_count() == 0 and out["split"].n_unique() > 1


def test_ties_at_the_cut_go_to_the_later_side():
    frame = _frame(400, 4)
    policy = SplitPolicy.build(1, FRACTIONS)
    cut = _cut(frame, policy)
    out = assign_splits(frame, "behavior_prediction", DomainSplit(policy, cut))
    at_cut = out.filter(pl.col("context").struct.field("ts") == cut)
    assert at_cut.height and "train" not in set(at_cut["split"].drop_nulls())


def test_errors_and_edges():
    frame = _frame(50, 2)
    all_train = _split(frame, fractions={"train": 1.0})
    assert set(all_train["split"]) == {"train"}
    all_test = _split(frame, fractions={"test": 1.0})
    assert set(all_test["split"]) == {"test"}
    with pytest.raises(SplitError, match="sum to 1"):
        SplitPolicy.build(1, {"train": 0.5, "test": 0.2})
    with pytest.raises(SplitError, match="unknown split"):
        SplitPolicy.build(1, {"dev": 1.0})
    no_ts = frame.with_columns(
        pl.lit(None).cast(pl.Struct({"ts": pl.Datetime("us")})).alias("context")
    )
    with pytest.raises(SplitError, match="no context.ts"):
        _split(no_ts)
    empty = _split(frame.head(0))
    assert empty.height == 0 and "split" in empty.columns


def test_domain_cut_is_the_quantile_of_the_domains_requests(tmp_path):
    wh = Warehouse(tmp_path / "wh.duckdb")
    times = [START + timedelta(hours=h) for h in range(100)]
    wh.write_table(
        "raw_requests",
        pl.DataFrame({"domain": ["hotel"] * 100 + ["food"] * 3, "ts": times + times[:3]}),
    )
    policy = SplitPolicy.build(1, FRACTIONS)
    cut = domain_cut(wh, "hotel", policy)
    assert cut in times
    assert abs(sum(t < cut for t in times) / 100 - policy.time_quantile) <= 0.01
    assert domain_cut(wh, "food", policy) <= times[2]
    assert domain_cut(wh, "books", policy) is None
