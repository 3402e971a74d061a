"""Synthetic negatives (`negatives`), on small frames built here."""

import random
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from assets.dimensions.common.negatives import PositiveRows, Synthesis, length_quotas
from assets.dimensions.common.transcripts import rule_labelled
from core import parallel
from core.ids import derive_seed

COLUMNS = ["turn_id", "response", "found", "label", "is_synthetic", "label_source", "operator"]


def _positives(n: int) -> pl.DataFrame:
    frame = pl.DataFrame(
        {"turn_id": [f"t{i}" for i in range(n)], "response": [f"r{i}" for i in range(n)]}
    ).with_columns(pl.lit([], dtype=pl.List(pl.String)).alias("found"))
    return rule_labelled(frame, "found", COLUMNS)


def plant_negatives(labelled, dimension, seed, ratio, prepare, attempt, match_length=None):
    synthesis = Synthesis(dimension, prepare, attempt, match_length=match_length)
    return synthesis.plant_frame(labelled, seed, ratio)


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
    for k, _, i, op in sorted(candidates):
        if len(made) == need:
            break
        rng = random.Random(derive_seed(seed, "dim", positives["turn_id"][i], op))
        changes = probe.attempt(op, prepared[i][0], rng)
        if changes is None:
            rejected += 1
        else:
            made.append((i, k, (positives["turn_id"][i], op, changes["response"])))
    # The negatives come in the positives' order, a turn's by operator rank.
    return [negative for _, _, negative in sorted(made)], rejected


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


def _with_evidence(n: int) -> pl.DataFrame:
    """Positives whose evidence repeats items across turns (the first occurrence differs in
    its price), every fourth turn logged by a generator (`is_synthetic` null or true)."""
    item = pl.Struct({"item_id": pl.String, "price": pl.Float64})
    evidence = [
        [{"item_id": f"i{(i + k) % 9}", "price": float(i)} for k in range(3)] for i in range(n)
    ]
    return _positives(n).with_columns(
        pl.Series("turn_id", [f"t{(i * 7) % n:03d}" for i in range(n)]),  # not in row order
        pl.Series("evidence", evidence, dtype=pl.List(item)),
        pl.Series("is_synthetic", [None if i % 4 == 1 else i % 4 == 2 for i in range(n)]),
    )


@pytest.mark.parametrize("stashed", [False, True], ids=["memory", "parquet"])
def test_positive_rows_read_in_slices_are_those_of_the_whole_frame(tmp_path, stashed):
    """What synthesis reads of its positives a slice at a time (a seeded sample by turn id, rows
    by number, the distinct evidence items as they first occur, narrow columns) is what the same
    operations on the whole frame give."""
    from assets.dimensions.common.transcripts import evidence_items

    frame = _with_evidence(40)
    rows = PositiveRows.stash(
        (frame.slice(o, 7) for o in range(0, 40, 7)), tmp_path if stashed else None
    )
    assert rows.height == 40 and len(rows.parts) == 6
    assert all(isinstance(p, Path) for p in rows.parts) == stashed
    numbered = frame.with_row_index("n")
    for where in (None, ~pl.col("is_synthetic").fill_null(False)):
        kept = numbered if where is None else numbered.filter(where)
        expected = kept.sort("turn_id").sample(12, seed=5)["n"].to_list()
        assert rows.sample(12, 5, where) == expected
        assert rows.sample(100, 5, where) == kept["n"].to_list()  # all, in order
    picked = [33, 2, 17, 9]
    assert rows.rows(picked, ["turn_id", "evidence"]).equals(
        frame[picked].select("turn_id", "evidence")
    )
    assert rows.evidence_items().equals(evidence_items(frame["evidence"]))
    lengths = rows.narrow(pl.col("response").str.len_chars().alias("n"))["n"]
    assert lengths.to_list() == frame["response"].str.len_chars().to_list()


def test_negatives_planted_from_stashed_slices_are_those_of_the_frame(tmp_path, probe):
    """Planting from positives stashed in Parquet slices (the step's way for a large domain)
    gives the negatives and stats of planting from the frame in memory, on worker processes."""
    positives = _positives(300)
    in_memory, stats = plant_negatives(positives, "dim", 5, 0.3, probe.prepare, probe.attempt)
    synthesis = Synthesis("dim", probe.prepare, probe.attempt)
    rows = PositiveRows.stash((positives.slice(o, 150) for o in range(0, 300, 150)), tmp_path)
    frames, stashed_stats = synthesis.plant(rows, 0, 5, 0.3, tmp_path)
    stashed = pl.concat(list(frames))
    assert stashed_stats == stats and stats["made"] > 300  # more than one round
    assert stashed.equals(in_memory)
    assert len(list(tmp_path.glob("changes-*.parquet"))) >= 4  # 2 slices, 2 rounds or more
