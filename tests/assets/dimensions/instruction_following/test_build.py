"""Labelling, targeted synthesis, balancing and entry assembly of instruction following."""

import random
from collections import Counter

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from assets.dimensions.common.entries import finalize_entries
from assets.dimensions.common.negatives import PositiveRows
from assets.dimensions.common.splits import DomainSplit, SplitPolicy
from assets.dimensions.common.wording import worded
from assets.dimensions.factual_consistency.evidence import evidence_items
from assets.dimensions.factual_consistency.responses import parse_response
from assets.dimensions.instruction_following.build import (
    DIMENSION,
    _constraints_of,
    assemble_entries,
    describe,
    label_turns,
    synthesize,
)
from assets.dimensions.instruction_following.phrases import PhraseBank, harvest
from assets.dimensions.instruction_following.synthesis import (
    OPERATORS,
    applicable_operators,
    perturb,
)
from assets.dimensions.instruction_following.verify import violations
from core import parallel
from core.templates import load_template
from schemas.domain import DomainSettings
from schemas.entries import entry_schema

# The operators that add an item to the answer or swap one in.
ITEM_ADDING = {
    "wrong_item_count",
    "exceed_length",
    "over_price_item",
    "over_distance_item",
    "drop_must_mention",
}

PROV = {
    "log_fingerprint": "fp",
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
        "instruction",
        "response",
        pl.col("constraints").alias("constraints_json"),
        "evidence",
        "violated_constraints",
    )


@pytest.fixture(scope="module")
def labelled(turns):
    frame, stats = label_turns(turns)
    assert stats["set_aside_mismatch"] == 0 and stats["labelled"] == frame.height
    return frame


def test_rule_labels_match_the_generator_truth(turns, labelled):
    truth = dict(zip(turns["turn_id"], turns["violated_constraints"].to_list(), strict=True))
    for turn_id, viol, label in labelled.select("turn_id", "violations", "label").iter_rows():
        assert sorted(viol) == sorted(truth[turn_id])
        assert label == (0 if viol else 1)
    assert labelled["label_source"].unique().to_list() == ["rule"]


def test_a_mismatched_constraints_column_sets_the_turn_aside(turns):
    wrong = turns.head(5).with_columns(
        pl.lit('[{"type": "item_count", "params": {"mode": "exactly", "n": 9}}]').alias(
            "constraints_json"
        )
    )
    frame, stats = label_turns(wrong)
    assert frame.height == 0 and stats["set_aside_mismatch"] == 5
    # Without the column the instruction alone decides.
    frame, stats = label_turns(
        wrong.with_columns(pl.lit(None, dtype=pl.String).alias("constraints_json"))
    )
    assert frame.height == 5


def test_every_operator_breaks_its_constraint(labelled):
    bank = harvest(PositiveRows.of(labelled.filter(pl.col("label") == 1)), seed=1)
    made = dict.fromkeys(OPERATORS, 0)
    for row in labelled.filter(pl.col("label") == 1).iter_rows(named=True):
        ev = evidence_items(row["evidence"])
        cons = _constraints_of(row["constraints"])
        parsed = parse_response(row["response"], ev)
        for op in applicable_operators(cons, parsed.format == "json" and parsed.json_valid):
            new = perturb(op, cons, parse_response(row["response"], ev), ev, random.Random(1), bank)
            if new is None:
                continue
            found = violations(cons, parse_response(new, ev), ev)
            assert OPERATORS[op] in found, (op, row["response"], new)
            made[op] += 1
    assert all(n >= 3 for n in made.values()), made


def test_items_are_drawn_by_how_often_compliant_answers_name_them():
    """`PhraseBank.by_mentions`: the first of the order is drawn with chances proportional to
    the item's mentions in logged compliant answers; an item none names comes last."""
    from types import SimpleNamespace

    bank = PhraseBank(mentions=Counter({"a": 30, "b": 10}))
    items = [SimpleNamespace(item_id=i) for i in ("a", "b", "never")]
    orders = [[x.item_id for x in bank.by_mentions(items, random.Random(k))] for k in range(4000)]
    first = Counter(order[0] for order in orders)
    assert abs(first["a"] / 4000 - 0.75) < 0.03 and first["never"] == 0
    assert all(order[-1] == "never" for order in orders)


def test_added_items_are_those_compliant_answers_name(labelled):
    """Operators that add or swap in an item draw it by how often the domain's logged compliant
    answers name it: an item only negatives name gives them away by its name and values. With
    the bank's counts kept for half the items, the items the operators add are mostly that half
    (a uniform draw, the old way, gives about half)."""
    positives = labelled.filter(pl.col("label") == 1)
    bank = harvest(PositiveRows.of(positives), seed=1)
    favoured = set(sorted(bank.mentions)[::2])
    bank.mentions = Counter({i: bank.mentions[i] for i in favoured})
    added = Counter()
    for row in positives.iter_rows(named=True):
        ev = evidence_items(row["evidence"])
        cons = _constraints_of(row["constraints"])
        parsed = parse_response(row["response"], ev)
        before = {r.item_id for r in parsed.recommendations}
        for op in applicable_operators(cons, parsed.format == "json" and parsed.json_valid):
            new = perturb(op, cons, parsed, ev, random.Random(3), bank)
            if op in ITEM_ADDING and new is not None:
                now = {r.item_id for r in parse_response(new, ev).recommendations}
                added.update(i in favoured for i in now - before - {None})
    assert added[True] + added[False] >= 100
    assert added[True] / (added[True] + added[False]) >= 0.75, added


def test_broken_json_is_the_compliant_answer_cut_off(labelled):
    """`break_json` writes no character the answer did not hold (a trailing comma or a comment
    line, one recipe, was a string only negatives held): the negative is a prefix of the
    positive, invalid JSON, with every recommendation and every fact it states still whole."""

    def stated(parsed):
        return [(r.item_id, [(c.field, c.text) for c in r.claims]) for r in parsed.recommendations]

    cut = 0
    for row in labelled.filter(pl.col("label") == 1).iter_rows(named=True):
        ev = evidence_items(row["evidence"])
        parsed = parse_response(row["response"], ev)
        if not (parsed.format == "json" and parsed.json_valid):
            continue
        cons = _constraints_of(row["constraints"])
        new = perturb("break_json", cons, parsed, ev, random.Random(cut), None)
        if new is None:
            continue
        cut += 1
        assert row["response"].startswith(new) and len(new) < len(row["response"])
        again = parse_response(new, ev)
        assert not again.json_valid and stated(again) == stated(parsed)
    assert cut >= 20


def test_synthetic_negatives_follow_the_positives_lengths(labelled):
    """Negatives are kept so that their lengths fall in the positives' length deciles at the
    positives' shares: operators that add an item or a sentence would otherwise make negatives
    longer, and more text holds more strings a shortcut rule keys on."""
    synthetic, _ = synthesize(labelled, seed=5, positive_ratio=0.5)
    positives = labelled.filter(pl.col("label") == 1)["response"].str.len_chars().to_numpy()
    negatives = synthetic["response"].str.len_chars().to_numpy()
    edges = np.quantile(positives, np.arange(1, 10) / 10)
    share = np.bincount(np.searchsorted(edges, negatives, side="right"), minlength=10)
    share = share / share.sum()
    assert np.abs(share - 0.1).max() < 0.04, share
    assert abs(np.median(negatives) / np.median(positives) - 1) < 0.05


def test_synthesis_balances_to_the_ratio_and_is_deterministic(labelled):
    synthetic, stats = synthesize(labelled, seed=5, positive_ratio=0.5)
    again, _ = synthesize(labelled, seed=5, positive_ratio=0.5)
    assert synthetic.equals(again)
    assert stats["made"] == stats["needed"] == synthetic.height > 0
    assert synthetic["is_synthetic"].all() and (synthetic["label"] == 0).all()
    assert set(synthetic["operator"]) <= set(OPERATORS) and len(set(synthetic["operator"])) >= 6
    for row in synthetic.iter_rows(named=True):
        assert OPERATORS[row["operator"]] in row["violations"]
    frame = assemble_entries(labelled, synthetic, "food_delivery", 5, 0.5, PROV)
    assert (frame["label"] == 1).sum() == (frame["label"] == 0).sum()
    from assets.dimensions.instruction_following.assets import INSTRUCTION_FOLLOWING

    meta = INSTRUCTION_FOLLOWING.summary(frame)  # describe(frame) and its label distribution
    assert meta["rows"] == frame.height and set(meta["label_distribution"]) == {"0", "1"}
    assert 0 < meta["synthetic_share"] < 1 and meta["violations_by_type"]


def test_entries_follow_the_entry_schema(labelled):
    synthetic, _ = synthesize(labelled, seed=5, positive_ratio=0.5)
    doubled = pl.concat([labelled, labelled.head(3)])  # exact repeats are dropped
    frame = assemble_entries(doubled, synthetic, "food_delivery", 5, 0.5, PROV)
    assert frame["entry_id"].n_unique() == frame.height
    assert frame.select("instruction", "query", "response").n_unique() == frame.height
    template = worded(load_template(DIMENSION), DomainSettings(), "food_delivery")
    split = DomainSplit(SplitPolicy.build(5, {"train": 0.8, "validation": 0.1, "test": 0.1}), None)
    entries, _ = finalize_entries(frame, DIMENSION, template, split, time_column="ts")
    assert entries.columns == entry_schema(DIMENSION).names
    entries.to_arrow().cast(entry_schema(DIMENSION))  # types fit the contract
    row = entries.filter(pl.col("provenance").struct.field("operator").is_not_null()).row(
        0, named=True
    )
    assert row["label_source"] == "synthetic" and row["is_synthetic"]
    assert row["answer"] == "<answer>0</answer>"
    source = labelled.filter(pl.col("request_id") == row["provenance"]["request_id"])["turn_id"]
    assert row["provenance"]["source_row_ids"] == source.to_list()
    assert row["provenance"]["template_id"] == "t.v1" and row["provenance"]["operator"] in OPERATORS
    assert row["instruction"] in row["prompt"] and row["response"] in row["prompt"]
    assert set(entries["split"]) <= {"train", "validation", "test"}
    # Same inputs, same ids.
    again = assemble_entries(doubled, synthetic, "food_delivery", 5, 0.5, PROV)
    assert again["entry_id"].to_list() == frame["entry_id"].to_list()


def test_a_domain_without_agent_turns_gives_no_entries(turns):
    labelled, stats = label_turns(turns.clear())
    assert labelled.height == 0 and stats["turns"] == 0
    synthetic, stats = synthesize(labelled, seed=1, positive_ratio=0.5)
    assert synthetic.height == 0 and stats["needed"] == 0
    assert assemble_entries(labelled, synthetic, "d", 1, 0.5, PROV).height == 0
    assert describe(labelled) == {"rows": 0}


def test_labels_and_negatives_are_the_same_when_made_on_every_core(turns, monkeypatch):
    # Set-aside turns in the later slices: kept rows must be numbered in the whole frame.
    mixed = turns.with_columns(
        pl.when(pl.int_range(pl.len()) % 7 == 3)
        .then(pl.lit('[{"type": "item_count", "params": {"mode": "exactly", "n": 9}}]'))
        .otherwise(pl.col("constraints_json"))
        .alias("constraints_json")
    )
    monkeypatch.setenv(parallel.WORKERS_ENV, "1")
    one, one_stats = label_turns(mixed)
    one_neg, one_neg_stats = synthesize(one, seed=3, positive_ratio=0.4)
    monkeypatch.setenv(parallel.WORKERS_ENV, "3")
    monkeypatch.setattr(parallel, "MIN_SLICE_ROWS", 150)
    many, many_stats = label_turns(mixed)
    assert parallel.pool_running()
    assert one_stats["set_aside_mismatch"] > 50
    assert_frame_equal(one, many)
    assert one_stats == many_stats
    many_neg, many_neg_stats = synthesize(many, seed=3, positive_ratio=0.4)
    assert one_neg.height > 150 and (one["label"] == 1).sum() >= 300  # several slices
    assert_frame_equal(one_neg, many_neg)
    assert one_neg_stats == many_neg_stats
