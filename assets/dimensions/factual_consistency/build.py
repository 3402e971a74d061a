"""Factual consistency, as plain functions: check every claim a response makes about its
retrieved items, synthesize hallucinations from consistent responses, and assemble entries.

Label 1 = every claim is supported by the evidence; 0 = at least one unsupported claim (listed in
`unsupported_claims` as {item_id, field, claimed, actual}).
"""

from __future__ import annotations

import random
from collections import Counter
from functools import partial

import polars as pl
import pyarrow as pa

from assets.dimensions.common.negatives import Synthesis
from assets.dimensions.common.transcripts import (
    assemble_turn_entries,
    describe_turn_entries,
    gc_paused,
    rule_labelled,
    step_schema,
)
from assets.dimensions.factual_consistency.claims import CategoryNames, check_claims
from assets.dimensions.factual_consistency.evidence import EvidenceCache
from assets.dimensions.factual_consistency.responses import parse_response
from assets.dimensions.factual_consistency.synthesis import (
    ItemPool,
    applicable_operators,
    category_names,
    item_pool,
    perturb,
)
from core.parallel import map_slices, merge_counts
from schemas.entries import UNSUPPORTED_CLAIM

DIMENSION = "factual_consistency"
# Layout of factual_consistency_labelled / _synthetic.
STEP_SCHEMA = step_schema([], [pa.field("unsupported_claims", pa.list_(UNSUPPORTED_CLAIM))])
LABELLED_COLUMNS = STEP_SCHEMA.names
# Entries alike in these columns are one entry (the real one is kept first).
REPEAT_KEY = ("query", "evidence_text", "response")


def label_turns(
    turns: pl.DataFrame, categories: CategoryNames | None = None
) -> tuple[pl.DataFrame, dict]:
    """Rule labels from the claim checker for every turn; returns (labelled, stats). Turns are
    checked one by one, in slices on every core (`core.parallel`); only the response and its
    evidence go to the workers, and only the unsupported claims come back. A category claimed
    in its other-language form is supported: `categories` (`synthesis.item_category_names` of
    the domain's evidence items, when the turns are a slice of the domain's), by default learned
    from these turns' items."""
    if turns.height == 0:
        return pl.DataFrame(), {"turns": 0}
    if categories is None:
        categories = category_names(turns["evidence"])
    label = partial(_label_slice, categories=categories)
    parts = map_slices(label, turns.select("response", "evidence"))
    claims = pl.Series("unsupported_claims", pa.chunked_array([claims for claims, _ in parts]))
    out = rule_labelled(turns.with_columns(claims), "unsupported_claims", LABELLED_COLUMNS)
    made = merge_counts([made for _, made in parts])
    return out, {
        "turns": turns.height, "labelled": out.height, "claims_by_field": dict(sorted(made.items()))
    }  # fmt: skip


def _label_slice(
    turns: pl.DataFrame, offset: int, categories: CategoryNames | None = None
) -> tuple[pa.Array, dict]:
    """(unsupported claims of every turn, claims made by field) of a slice of the step's turns
    (`offset`, its first row, is not needed)."""
    claims_col = []
    made: Counter = Counter()
    with gc_paused():
        for response, ev in zip(
            turns["response"].to_list(), EvidenceCache().column(turns["evidence"]), strict=True
        ):
            parsed = parse_response(response or "", ev)
            for rec in parsed.recommendations:
                made["name"] += 1
                made.update(c.field for c in rec.claims)
            claims_col.append(check_claims(parsed, ev, categories))
    return pa.array(claims_col, type=STEP_SCHEMA.field("unsupported_claims").type), dict(made)


def _prepare(
    positives: pl.DataFrame, pool: ItemPool | None = None
) -> list[tuple[tuple, list[str]]]:
    out = []
    for response, ev in zip(
        positives["response"].to_list(),
        EvidenceCache().column(positives["evidence"]),
        strict=True,
    ):
        parsed = parse_response(response, ev)
        out.append(((response, ev, parsed, pool), applicable_operators(parsed, ev)))
    return out


def _attempt(op: str, prepared: tuple, rng: random.Random) -> dict | None:
    # Perturbing does not change the parse: the attempts on one turn share it.
    response, ev, parsed, pool = prepared
    new = perturb(op, parsed, ev, rng, pool)
    categories = pool.canonical if pool is not None else None
    found = check_claims(parse_response(new, ev), ev, categories) if new and new != response else []
    return {"response": new, "unsupported_claims": found} if found else None


# Hallucinated variants of consistent responses, each re-checked and kept only when the checker
# finds the planted error. False values are other items' real values, from the domain's pool
# (`synthesis.item_pool`). The negatives kept follow the positives' response lengths.
SYNTHESIS = Synthesis(DIMENSION, _prepare, _attempt, context=item_pool, match_length="response")


def synthesize(
    labelled: pl.DataFrame, seed: int, positive_ratio: float, other_negatives: int = 0
) -> tuple[pl.DataFrame, dict]:
    """`SYNTHESIS` on a frame of labelled turns, up to the count the positive ratio needs."""
    return SYNTHESIS.plant_frame(labelled, seed, positive_ratio, other_negatives)


def assemble_entries(
    labelled: pl.DataFrame,
    synthetic: pl.DataFrame,
    domain: str,
    seed: int,
    positive_ratio: float,
    provenance: dict[str, str | None],
) -> pl.DataFrame:
    """Labelled + synthetic rows -> deduplicated, balanced entry rows (before render and split).
    Exact repeats (same query, evidence and response) keep one entry: the real one first."""
    return assemble_turn_entries(
        labelled, synthetic, DIMENSION, domain, seed, positive_ratio, provenance,
        repeat_key=REPEAT_KEY,
    )  # fmt: skip


def _claim_fields(frame: pl.DataFrame) -> pl.Series:
    return frame.select(
        pl.col("unsupported_claims").explode().struct.field("field").drop_nulls()
    ).to_series()


def describe(frame: pl.DataFrame) -> dict:
    """Asset metadata: label distribution, unsupported claims by field, synthetic share by operator."""
    return describe_turn_entries(frame, "unsupported_claims_by_field", _claim_fields)
