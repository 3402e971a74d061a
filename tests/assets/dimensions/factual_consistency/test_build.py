"""Labelling, hallucination synthesis, balancing and entry assembly of factual consistency."""

import random

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from assets.dimensions.common.entries import finalize_entries
from assets.dimensions.common.negatives import PositiveRows
from assets.dimensions.common.splits import DomainSplit, SplitPolicy
from assets.dimensions.common.wording import worded
from assets.dimensions.factual_consistency.build import (
    DIMENSION,
    assemble_entries,
    describe,
    label_turns,
    synthesize,
)
from assets.dimensions.factual_consistency.claims import check_claims
from assets.dimensions.factual_consistency.evidence import evidence_items
from assets.dimensions.factual_consistency.responses import parse_response
from assets.dimensions.factual_consistency.synthesis import (
    OPERATORS,
    applicable_operators,
    item_pool,
    perturb,
)
from core import parallel
from core.templates import load_template
from schemas.domain import DomainSettings
from schemas.entries import entry_schema

PROV = {
    "log_fingerprint": None,
    "builder_version": "b/1",
    "template_id": "t.v1",
    "template_hash": "h",
}


@pytest.fixture(scope="module")
def turns(generated):
    return generated.head(600).select(
        pl.lit("food_delivery").alias("domain"),
        "turn_id",
        "request_id",
        pl.col("user_id").alias("user_id_hash"),
        "query",
        "ts",
        "response",
        "evidence",
        "misstated",
    )


@pytest.fixture(scope="module")
def labelled(turns):
    frame, stats = label_turns(turns)
    assert stats["labelled"] == turns.height and stats["claims_by_field"]["price"] > 0
    return frame


def test_rule_labels_match_the_generator_truth(turns, labelled):
    truth = {t: sorted((m["item_id"] or "", m["field"]) for m in ms)
             for t, ms in zip(turns["turn_id"], turns["misstated"].to_list(), strict=True)}  # fmt: skip
    for turn_id, claims, label in labelled.select(
        "turn_id", "unsupported_claims", "label"
    ).iter_rows():
        assert sorted((c["item_id"] or "", c["field"]) for c in claims) == truth[turn_id]
        assert label == (0 if claims else 1)
        for c in claims:
            assert c["claimed"] is not None and c["actual"] is not None


def test_every_operator_plants_an_unsupported_claim(labelled):
    pool = item_pool(PositiveRows.of(labelled.filter(pl.col("label") == 1)), seed=2)
    made = dict.fromkeys(OPERATORS, 0)
    for row in labelled.filter(pl.col("label") == 1).head(200).iter_rows(named=True):
        ev = evidence_items(row["evidence"])
        for op in applicable_operators(parse_response(row["response"], ev), ev):
            new = perturb(op, parse_response(row["response"], ev), ev, random.Random(2), pool)
            if new is None:
                continue
            found = check_claims(parse_response(new, ev), ev)
            assert found, (op, row["response"], new)
            made[op] += 1
    assert all(n >= 3 for n in made.values()), made


def test_an_invented_item_is_any_unheld_pool_item_alike(labelled):
    """`invent_item` names a pool item the evidence does not hold (no name of it inside a held
    name or holding one), each such name of the response's script about equally often: the
    draw is redrawn when held, not a scan of the pool, and must keep the scan's distribution."""
    from collections import Counter

    pool = item_pool(PositiveRows.of(labelled.filter(pl.col("label") == 1)), seed=2)
    row = next(
        r
        for r in labelled.filter(pl.col("label") == 1).iter_rows(named=True)
        if parse_response(r["response"], evidence_items(r["evidence"])).recommendations
    )
    ev = evidence_items(row["evidence"])
    parsed = parse_response(row["response"], ev)
    held = {n.casefold() for e in ev for n in e.names}
    named = Counter()
    for k in range(3000):
        new = perturb("invent_item", parsed, ev, random.Random(k), pool)
        again = parse_response(new, ev)
        unknown = [r.name for r in again.recommendations if r.item_id is None]
        assert len(unknown) == 1, new
        folded = unknown[0].casefold()
        assert not any(folded in h or h in folded for h in held)
        named[unknown[0]] += 1
    # Every unheld name of the script drawn, none far from its share (3000 / names).
    expected = 3000 / len(named)
    assert len(named) >= 10
    assert max(named.values()) < 2 * expected and min(named.values()) > expected / 2, named


def test_swap_attribute_draws_from_the_pool_view_as_from_the_list_it_replaces(labelled):
    """`swap_attribute` samples other categories' items from a view of the pool (no list per
    attempt): the same draws, in the same order, as from the list `evidence + pool` filtered
    to other items of other categories, which it replaced."""
    from assets.dimensions.factual_consistency.synthesis import _Without

    pool = item_pool(PositiveRows.of(labelled.filter(pl.col("label") == 1)), seed=2)
    ev = pool.items[:3]
    checked = 0
    for own in [*pool.items[:40], pool.items[-1]]:
        own_key = pool.category_key(own.category)
        for key in (own_key, None):  # an item with a category, and as if it had none

            def other(e, own=own, key=key):
                return e.item_id != own.item_id and (
                    key is None or pool.category_key(e.category) != key
                )

            listed = [e for e in ev + pool.items if other(e)]
            local = [e for e in ev if other(e)]
            outside, where = pool.outside(key)
            view = _Without(local, outside, where.get(own.item_id, []))
            assert list(view) == listed and len(view) == len(listed)
            for k in range(3):
                n = min(len(listed), 30)
                assert random.Random(k).sample(view, n) == random.Random(k).sample(listed, n)
            checked += 1
    assert checked == 82


def test_synthesis_balance_and_entries(labelled):
    synthetic, stats = synthesize(labelled, seed=9, positive_ratio=0.5)
    assert synthetic.equals(synthesize(labelled, seed=9, positive_ratio=0.5)[0])
    assert stats["made"] == stats["needed"] == synthetic.height > 0
    assert (synthetic["unsupported_claims"].list.len() > 0).all()
    assert set(synthetic["operator"]) == set(OPERATORS)
    frame = assemble_entries(labelled, synthetic, "food_delivery", 9, 0.5, PROV)
    assert (frame["label"] == 1).sum() == (frame["label"] == 0).sum()
    assert frame["entry_id"].n_unique() == frame.height
    meta = describe(frame)
    assert meta["unsupported_claims_by_field"]["name"] > 0 and 0 < meta["synthetic_share"] < 1
    template = worded(load_template(DIMENSION), DomainSettings(), "food_delivery")
    split = DomainSplit(SplitPolicy.build(9, {"train": 0.8, "validation": 0.1, "test": 0.1}), None)
    entries, _ = finalize_entries(frame, DIMENSION, template, split, time_column="ts")
    assert entries.columns == entry_schema(DIMENSION).names
    entries.to_arrow().cast(entry_schema(DIMENSION))
    row = entries.row(0, named=True)
    assert row["response"] in row["prompt"] and row["evidence"][0]["item_id"] in row["prompt"]
    assert row["answer"] == f"<answer>{row['label']}</answer>"
    # A user's entries never straddle two splits.
    per_user = entries.group_by(pl.col("provenance").struct.field("user_id_hash")).agg(
        pl.col("split").n_unique()
    )
    assert (per_user["split"] == 1).all()


def test_balance_downsamples_an_excess_of_negatives(labelled):
    from assets.dimensions.common.balance import balance, negatives_needed

    assert negatives_needed(80, 20, 0.5) == 60
    assert negatives_needed(10, 90, 0.5) == 0
    frame = labelled.with_columns(pl.col("turn_id").alias("entry_id"))
    flipped = frame.with_columns((1 - pl.col("label")).cast(pl.Int8).alias("label"))
    out = balance(flipped, 0.5, 1, "t")
    assert (out["label"] == 1).sum() == (out["label"] == 0).sum() == (flipped["label"] == 1).sum()
    assert out.equals(balance(flipped, 0.5, 1, "t"))


def test_a_domain_without_agent_turns_gives_no_entries(turns):
    labelled, stats = label_turns(turns.clear())
    assert labelled.height == 0 and stats["turns"] == 0
    synthetic, stats = synthesize(labelled, seed=1, positive_ratio=0.5)
    assert synthetic.height == 0 and stats["needed"] == 0
    assert assemble_entries(labelled, synthetic, "d", 1, 0.5, PROV).height == 0


def test_labels_and_negatives_are_the_same_when_made_on_every_core(turns, monkeypatch):
    monkeypatch.setenv(parallel.WORKERS_ENV, "1")
    one, one_stats = label_turns(turns)
    one_neg, one_neg_stats = synthesize(one, seed=3, positive_ratio=0.4)
    monkeypatch.setenv(parallel.WORKERS_ENV, "3")
    monkeypatch.setattr(parallel, "MIN_SLICE_ROWS", 150)
    many, many_stats = label_turns(turns)
    assert parallel.pool_running()
    assert_frame_equal(one, many)
    assert one_stats == many_stats and list(many_stats["claims_by_field"]) == sorted(
        many_stats["claims_by_field"]
    )
    many_neg, many_neg_stats = synthesize(many, seed=3, positive_ratio=0.4)
    assert one_neg.height > 150 and (one["label"] == 1).sum() >= 300  # several slices
    assert_frame_equal(one_neg, many_neg)
    assert one_neg_stats == many_neg_stats


def test_synthesis_from_the_positives_alone_knowing_the_negatives_count(labelled):
    """The synthetic step reads the positives only and counts the negatives: same negatives."""
    negatives = int((labelled["label"] != 1).sum())
    assert negatives > 0
    whole, stats = synthesize(labelled, seed=9, positive_ratio=0.5)
    positives = labelled.filter(pl.col("label") == 1)
    alone, alone_stats = synthesize(positives, 9, 0.5, other_negatives=negatives)
    assert alone.equals(whole) and alone_stats == stats and whole.height > 0
    # Without the count the positives alone would ask for more negatives.
    assert synthesize(positives, 9, 0.5)[1]["needed"] > stats["needed"]
