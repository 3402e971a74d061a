"""Instruction following, as plain functions: label agent turns by rule, synthesize targeted
negatives, and assemble entries.

- `label_turns`: parse each instruction into constraints, cross-check them against the
  `constraints` column when a log has it, and verify the response against every hard constraint.
  A turn whose parse disagrees with its declared constraints is set aside (counted, not labelled):
  what the agent was told is then uncertain. A turn with no hard constraint has nothing a rule can
  decide and is set aside too.
- `synthesize`: non-compliant variants of compliant responses, as many as the profile's positive
  ratio asks for, each re-verified.
- `assemble_entries`: dedup, balance, prompt text, provenance and ids; the caller renders and
  splits through `common.entries.finalize_entries`.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from functools import cached_property, lru_cache

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
from assets.dimensions.factual_consistency.evidence import EvidenceCache, EvidenceItem
from assets.dimensions.factual_consistency.responses import (
    ParsedResponse,
    parse_response,
    response_shape,
)
from assets.dimensions.instruction_following.parse import (
    InstructionParseError,
    cross_check,
    parse_instruction,
)
from assets.dimensions.instruction_following.phrases import PhraseBank, harvest
from assets.dimensions.instruction_following.rubric import with_rubric
from assets.dimensions.instruction_following.synthesis import (
    OPERATORS,
    applicable_operators,
    perturb,
)
from assets.dimensions.instruction_following.verify import violations
from core.parallel import map_slices, merge_counts
from schemas.constraints import make_constraint
from schemas.entries import CONSTRAINT

DIMENSION = "instruction_following"
# Layout of instruction_following_labelled / _synthetic.
STEP_SCHEMA = step_schema(
    [pa.field("instruction", pa.string())],
    [
        pa.field("constraints", pa.list_(CONSTRAINT)),
        pa.field("violations", pa.list_(pa.string())),
    ],
)
LABELLED_COLUMNS = STEP_SCHEMA.names
# Entries alike in these columns are one entry (the real one is kept first).
REPEAT_KEY = ("instruction", "query", "response")


def _records(constraints) -> list[dict]:
    return [c.to_record() for c in constraints]


def _constraints_of(records: list[dict]):
    return [_constraint(r["type"], r["params"]) for r in records]


@lru_cache(maxsize=1 << 14)  # constraints repeat across turns; a Constraint is immutable
def _constraint(ctype: str, params: str):
    return make_constraint(ctype, json.loads(params))


def label_turns(turns: pl.DataFrame, context: None = None) -> tuple[pl.DataFrame, dict]:
    """Rule labels for every turn that can be decided; returns (labelled, stats). Turns are
    labelled one by one, in slices on every core (`core.parallel`); only the columns the rules
    read go to the workers, and only the labels come back. A turn's label reads that turn
    alone (no domain-wide `context`)."""
    if turns.height == 0:
        return pl.DataFrame(), {"turns": 0, "set_aside_mismatch": 0, "set_aside_no_hard": 0}
    parts = map_slices(_label_slice, turns.select(_LABEL_INPUTS))
    out = turns[[row for part in parts for row in part[0]]].with_columns(
        pl.Series("constraints", pa.chunked_array([p[1] for p in parts])),
        pl.Series("violations", pa.chunked_array([p[2] for p in parts])),
    )
    out = rule_labelled(out, "violations", LABELLED_COLUMNS)
    stats = merge_counts([part[3] for part in parts])
    stats["labelled"] = out.height
    return out, stats


_LABEL_INPUTS = ["turn_id", "instruction", "constraints_json", "response", "evidence"]


def _label_slice(turns: pl.DataFrame, offset: int) -> tuple[list[int], pa.Array, pa.Array, dict]:
    """The labels of a slice of the step's turns whose first row is row `offset`: (rows kept,
    numbered in the whole frame; their constraints; their violations; stats)."""
    stats: dict = {"turns": turns.height, "set_aside_mismatch": 0, "set_aside_no_hard": 0}
    mismatches: Counter = Counter()
    keep, cons_col, viol_col = [], [], []
    with gc_paused():
        for row_no, (turn_id, instruction, declared, response, ev) in enumerate(
            zip(
                turns["turn_id"].to_list(),
                turns["instruction"].to_list(),
                turns["constraints_json"].to_list(),
                turns["response"].to_list(),
                EvidenceCache().column(turns["evidence"]),
                strict=True,
            ),
            start=offset,
        ):
            try:
                constraints = parse_instruction(instruction)
            except InstructionParseError as exc:
                raise InstructionParseError(f"agent turn {turn_id} (row {row_no}): {exc}") from None
            issues = cross_check(constraints, declared)
            if issues:
                stats["set_aside_mismatch"] += 1
                mismatches.update(issues)
                continue
            if not any(c.hard for c in constraints):
                stats["set_aside_no_hard"] += 1
                continue
            keep.append(row_no)
            cons_col.append(_records(constraints))
            viol_col.append(violations(constraints, parse_response(response or "", ev), ev))
    stats["mismatches"] = dict(sorted(mismatches.items()))
    return (
        keep,
        pa.array(cons_col, type=STEP_SCHEMA.field("constraints").type),
        pa.array(viol_col, type=STEP_SCHEMA.field("violations").type),
        stats,
    )


class _Compliant:
    """A compliant turn as the synthesis attempts see it. Its response is parsed on first use:
    which operators apply depends only on the constraints and on whether the response is valid
    JSON, and a turn without an operator of a round's rank is not attempted in that round.
    Perturbing does not change the parse, so the attempts on one turn share it."""

    def __init__(
        self,
        response: str,
        constraints: list,
        evidence: list[EvidenceItem],
        bank: PhraseBank | None = None,
    ) -> None:
        self.response, self.constraints, self.evidence = response, constraints, evidence
        self.bank = bank

    @cached_property
    def parsed(self) -> ParsedResponse:
        return parse_response(self.response, self.evidence)


def _prepare(
    positives: pl.DataFrame, bank: PhraseBank | None = None
) -> list[tuple[_Compliant, list[str]]]:
    out = []
    for response, records, ev in zip(
        positives["response"].to_list(),
        positives["constraints"].to_list(),
        EvidenceCache().column(positives["evidence"]),
        strict=True,
    ):
        turn = _Compliant(response, _constraints_of(records), ev, bank)
        fmt, valid, _ = response_shape(response)
        out.append((turn, applicable_operators(turn.constraints, fmt == "json" and valid)))
    return out


def _attempt(op: str, turn: _Compliant, rng: random.Random) -> dict | None:
    ev, constraints = turn.evidence, turn.constraints
    new = perturb(op, constraints, turn.parsed, ev, rng, turn.bank)
    if new is None or new == turn.response:
        return None
    found = violations(constraints, parse_response(new, ev), ev)
    return {"response": new, "violations": found} if OPERATORS[op] in found else None


# Non-compliant variants of compliant turns, each re-verified and kept only when it breaks the
# constraint its operator targets. Operators write only the domain's logged wording: the phrase
# bank of its logged compliant responses (`phrases.harvest`). The negatives kept follow the
# positives' response lengths.
SYNTHESIS = Synthesis(DIMENSION, _prepare, _attempt, context=harvest, match_length="response")


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
    Exact repeats (same instruction, query and response) keep one entry: the real one first.

    `provenance`: log_fingerprint, builder_version, template_id, template_hash.
    """
    out = assemble_turn_entries(
        labelled, synthetic, DIMENSION, domain, seed, positive_ratio, provenance,
        repeat_key=REPEAT_KEY,
    )  # fmt: skip
    # The rubric lists the constraints the label decided (rules: the hard ones).
    return with_rubric(out) if out.height else out


def _violation_types(frame: pl.DataFrame) -> pl.Series:
    return frame.select(pl.col("violations").explode().drop_nulls()).to_series()


def describe(frame: pl.DataFrame) -> dict:
    """Asset metadata: label distribution, violations by type, synthetic share by operator."""
    return describe_turn_entries(frame, "violations_by_type", _violation_types)
