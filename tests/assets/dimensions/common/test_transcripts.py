"""Shared steps of the agent-transcript dimensions, on small frames built here."""

import random
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pytest

from assets.dimensions.common.transcripts import (
    describe_turn_entries,
    length_quotas,
    plant_negatives,
    rule_labelled,
    step_schema,
)
from core import parallel
from core.ids import derive_seed

COLUMNS = ["turn_id", "response", "found", "label", "is_synthetic", "label_source", "operator"]


def _positives(n: int) -> pl.DataFrame:
    frame = pl.DataFrame(
        {"turn_id": [f"t{i}" for i in range(n)], "response": [f"r{i}" for i in range(n)]}
    ).with_columns(pl.lit([], dtype=pl.List(pl.String)).alias("found"))
    return rule_labelled(frame, "found", COLUMNS)


def _plant(labelled, seed=1, ratio=0.5, refuse=()):
    def prepare(positives):
        rows = positives.select("turn_id", "response").iter_rows()
        return [((turn_id, response.upper()), ["a", "b"]) for turn_id, response in rows]

    def attempt(op, prepared, rng):
        turn_id, upper = prepared
        if turn_id in refuse:
            return None
        return {"response": f"{upper}-{op}-{rng.randint(0, 9)}", "found": [op]}

    return plant_negatives(labelled, "dim", seed, ratio, prepare, attempt)


def test_step_schema_puts_the_dimension_columns_around_response_and_evidence():
    schema = step_schema([pa.field("instruction", pa.string())], [pa.field("x", pa.int8())])
    assert schema.names == [
        "domain", "turn_id", "request_id", "user_id_hash", "query", "ts", "instruction",
        "response", "evidence", "x", "label", "is_synthetic", "label_source", "operator",
    ]  # fmt: skip
    assert not schema.field("domain").nullable


def test_rule_labels_one_only_when_nothing_was_found():
    frame = pl.DataFrame({"turn_id": ["a", "b"], "response": ["x", "y"], "found": [[], ["oops"]]})
    out = rule_labelled(frame, "found", COLUMNS)
    assert out.columns == COLUMNS
    assert out["label"].to_list() == [1, 0] and out["label"].dtype == pl.Int8
    assert not out["is_synthetic"].any() and set(out["label_source"]) == {"rule"}
    assert out["operator"].null_count() == 2


def test_negatives_spread_over_turns_first_and_are_deterministic():
    labelled = _positives(4)
    made, stats = _plant(labelled)
    # Four negatives for four positives: one per turn (every turn's first operator goes first).
    assert stats == {"needed": 4, "made": 4, "rejected": 0, "by_operator": stats["by_operator"]}
    assert sorted(made["turn_id"]) == ["t0", "t1", "t2", "t3"]
    assert sum(stats["by_operator"].values()) == 4
    assert (made["label"] == 0).all() and made["is_synthetic"].all()
    assert set(made["label_source"]) == {"synthetic"} and made.schema == labelled.schema
    for row in made.iter_rows(named=True):
        assert row["response"].startswith(f"R{row['turn_id'][1:]}-{row['operator']}-")
        assert row["found"] == [row["operator"]]
    assert made.equals(_plant(labelled)[0])


def test_refused_variants_are_counted_and_others_fill_in():
    made, stats = _plant(_positives(4), refuse={"t0"})
    assert stats["made"] == made.height == 4 and stats["rejected"] >= 1
    assert "t0" not in set(made["turn_id"])
    assert made.select("turn_id", "operator").n_unique() == 4


@pytest.fixture
def probe(monkeypatch):
    """`plant_probe`, importable by workers started from now on; three processes, small slices."""
    parallel.stop_workers()  # workers started earlier do not have this folder on their path
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    monkeypatch.setenv(parallel.WORKERS_ENV, "3")
    monkeypatch.setattr(parallel, "MIN_SLICE_ROWS", 50)
    import plant_probe

    yield plant_probe
    parallel.stop_workers()


def _one_by_one(positives, need, seed, probe):
    """The reference: every candidate in the seeded order, one after another, until `need`."""
    prepared = probe.prepare(positives)
    candidates = []
    for i, (turn_id, (_, ops)) in enumerate(zip(positives["turn_id"], prepared, strict=True)):
        ops = sorted(ops, key=lambda op, t=turn_id: derive_seed(seed, "dim", t, op))
        for k, op in enumerate(ops):
            candidates.append((k, derive_seed(seed, "dim", turn_id, op, "order"), i, op))
    made, rejected = [], 0
    for _, _, i, op in sorted(candidates):
        if len(made) == need:
            break
        rng = random.Random(derive_seed(seed, "dim", positives["turn_id"][i], op))
        changes = probe.attempt(op, prepared[i][0], rng)
        if changes is None:
            rejected += 1
        else:
            made.append((positives["turn_id"][i], op, changes["response"]))
    return made, rejected


def test_negatives_made_in_rounds_on_every_core_are_those_of_one_by_one_attempts(probe):
    # 300 positives and 100 negatives: 800 negatives needed for a 0.25 positive ratio, more than
    # the 600 candidates can make (half are refused): three rounds, and they run out.
    positives = _positives(300)
    labelled = pl.concat(
        [positives, positives.head(100).with_columns(pl.lit(0, pl.Int8).alias("label"))]
    )
    made, stats = plant_negatives(labelled, "dim", 5, 0.25, probe.prepare, probe.attempt)
    assert parallel.pool_running()
    expected, rejected = _one_by_one(positives, stats["needed"], 5, probe)
    assert stats["needed"] == 800 and 300 < stats["made"] < 800  # runs out of candidates
    assert made.select("turn_id", "operator", "response").rows() == expected
    assert stats["rejected"] == rejected and stats["made"] == len(expected)

    few, few_stats = plant_negatives(labelled, "dim", 5, 0.6, probe.prepare, probe.attempt)
    expected, rejected = _one_by_one(positives, few_stats["needed"], 5, probe)
    assert 0 < few.height == len(expected) < 120
    assert few.select("turn_id", "operator", "response").rows() == expected
    assert few_stats["rejected"] == rejected


def test_length_quotas_give_each_decile_of_the_positives_its_share():
    quotas = length_quotas(np.arange(100, 200), 25)
    assert len(quotas.counts) == 10 and sum(quotas.counts) == 25
    assert set(quotas.counts) == {2, 3}  # 2.5 each: the remainders go to five bins
    assert quotas.bin(100) == 0 and quotas.bin(199) == 9 and quotas.bin(10_000) == 9
    tied = length_quotas(np.array([50] * 30 + [80] * 10), 8)  # repeated deciles: one edge
    assert tied.edges == (50.0, 80.0) and sum(tied.counts) == 8


def test_matched_negatives_take_the_positives_length_shares_before_the_seeded_order():
    """Operator "a" makes half its variants long (it adds text), "b" keeps the length: in the
    seeded order alone the negatives come out longer than the positives; matched, they take
    each length decile's share of the positives, the long variants waiting while "b" fills in."""
    positives = _positives(200).with_columns(
        pl.Series("response", ["p" * (i % 50 + 10) for i in range(200)])
    )

    def prepare(rows):
        return [((t, r), ["a", "b"]) for t, r in rows.select("turn_id", "response").iter_rows()]

    def attempt(op, prepared, rng):
        turn_id, text = prepared
        longer = op == "a" and rng.random() < 0.5
        return {"response": text + "x" * (60 if longer else 0), "found": [op]}

    def lengths(frame):
        return frame["response"].str.len_chars().to_numpy()

    plain, _ = plant_negatives(positives, "dim", 3, 0.5, prepare, attempt)
    matched, stats = plant_negatives(
        positives, "dim", 3, 0.5, prepare, attempt, match_length="response"
    )
    assert plain.height == matched.height == stats["made"] == 200
    assert (lengths(plain) > 60).mean() > 0.15
    quotas = length_quotas(lengths(positives), 200)
    bins = np.bincount([quotas.bin(n) for n in lengths(matched)], minlength=len(quotas.counts))
    assert bins.tolist() == list(quotas.counts)
    # Only the top decile (open above) may take long ones.
    assert (lengths(matched) > 60).sum() <= quotas.counts[-1] < (lengths(plain) > 60).sum()
    again, _ = plant_negatives(positives, "dim", 3, 0.5, prepare, attempt, match_length="response")
    assert matched.equals(again)


def test_no_negatives_when_none_are_needed_or_there_are_no_rows():
    labelled = _positives(2)
    negatives = labelled.with_columns(pl.lit(0, dtype=pl.Int8).alias("label"))
    assert _plant(pl.concat([labelled, negatives]))[0].height == 0
    assert _plant(labelled.clear())[1] == {"needed": 0, "made": 0, "rejected": 0, "by_operator": {}}


def test_describe_counts_findings_and_synthetic_share():
    labelled = _positives(2)
    made, _ = _plant(labelled)
    frame = pl.concat([labelled, made])
    meta = describe_turn_entries(
        frame, "found_by_kind", lambda f: f["found"].explode().drop_nulls()
    )
    assert list(meta) == [
        "rows", "found_by_kind", "synthetic_share_by_operator", "synthetic_share",
    ]  # fmt: skip
    assert meta["rows"] == 4  # the label distribution is the step's (common/labels.py)
    assert sum(meta["found_by_kind"].values()) == 2 and meta["synthetic_share"] == 0.5
    assert describe_turn_entries(frame.clear(), "found_by_kind", lambda f: 1 / 0) == {"rows": 0}


def test_evidence_text_is_the_same_line_per_item_whatever_the_slice_size(monkeypatch):
    from assets.dimensions.common import transcripts
    from schemas.entries import ITEM

    def item(i: int) -> dict:
        return {"item_id": f"i{i}", "title": f"Shop {i}", "category": "BBQ", "tags": ["late"],
                "price": 10.0 + i, "rating": None, "description": "", "attributes": None}  # fmt: skip

    lists = [[item(1), item(2)], [], [item(3)], None, [item(4)], [item(5), item(6), item(7)]]
    evidence = pl.Series("evidence", pa.array(lists, type=pa.list_(ITEM)))
    whole = transcripts.evidence_text(evidence)
    assert whole.to_list()[:2] == [
        "- [i1] Shop 1 | category: BBQ | price: 11.00 | tags: late\n"
        "- [i2] Shop 2 | category: BBQ | price: 12.00 | tags: late",
        "(no items retrieved)",
    ]
    monkeypatch.setattr(transcripts, "EVIDENCE_TEXT_SLICE_ROWS", 4)
    assert transcripts.evidence_text(evidence).equals(whole)
    monkeypatch.setattr(transcripts, "EVIDENCE_TEXT_SLICE_ROWS", 1)
    assert transcripts.evidence_text(evidence).equals(whole)
    assert transcripts.evidence_text(evidence.slice(0, 0)).to_list() == []
