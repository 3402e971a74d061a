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

import duckdb
import polars as pl

from assets.dimensions.common.text import item_text_sql
from assets.dimensions.factual_consistency.balance import balance, negatives_needed
from assets.dimensions.factual_consistency.evidence import evidence_items
from assets.dimensions.factual_consistency.responses import parse_response
from assets.dimensions.instruction_following.parse import (
    InstructionParseError,
    cross_check,
    parse_instruction,
)
from assets.dimensions.instruction_following.synthesis import (
    OPERATORS,
    applicable_operators,
    perturb,
)
from assets.dimensions.instruction_following.verify import violations
from core.ids import derive_seed, with_stable_id
from schemas.constraints import make_constraint

DIMENSION = "instruction_following"
CONSTRAINTS_DTYPE = pl.List(pl.Struct({"type": pl.String, "params": pl.String}))
LABELLED_COLUMNS = [
    "domain",
    "turn_id",
    "request_id",
    "user_id_hash",
    "query",
    "ts",
    "instruction",
    "response",
    "evidence",
    "constraints",
    "violations",
    "label",
    "is_synthetic",
    "label_source",
    "operator",
]


def _records(constraints) -> list[dict]:
    return [c.to_record() for c in constraints]


def _constraints_of(records: list[dict]):
    return [make_constraint(r["type"], json.loads(r["params"])) for r in records]


def label_turns(turns: pl.DataFrame) -> tuple[pl.DataFrame, dict]:
    """Rule labels for every turn that can be decided; returns (labelled, stats)."""
    stats: dict = {"turns": turns.height, "set_aside_mismatch": 0, "set_aside_no_hard": 0}
    if turns.height == 0:
        return pl.DataFrame(), stats
    mismatches: Counter = Counter()
    keep, cons_col, viol_col = [], [], []
    for row_no, (turn_id, instruction, declared, response, evidence) in enumerate(
        zip(
            turns["turn_id"].to_list(),
            turns["instruction"].to_list(),
            turns["constraints_json"].to_list(),
            turns["response"].to_list(),
            turns["evidence"].to_list(),
            strict=True,
        )
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
        ev = evidence_items(evidence)
        keep.append(row_no)
        cons_col.append(_records(constraints))
        viol_col.append(violations(constraints, parse_response(response or "", ev), ev))
    stats["mismatches"] = dict(sorted(mismatches.items()))
    out = turns[keep].with_columns(
        pl.Series("constraints", cons_col, dtype=CONSTRAINTS_DTYPE),
        pl.Series("violations", viol_col, dtype=pl.List(pl.String)),
    )
    out = out.with_columns(
        (pl.col("violations").list.len() == 0).cast(pl.Int8).alias("label"),
        pl.lit(False).alias("is_synthetic"),
        pl.lit("rule").alias("label_source"),
        pl.lit(None, dtype=pl.String).alias("operator"),
    ).select(LABELLED_COLUMNS)
    stats["labelled"] = out.height
    return out, stats


def synthesize(
    labelled: pl.DataFrame, seed: int, positive_ratio: float
) -> tuple[pl.DataFrame, dict]:
    """Synthetic non-compliant variants of compliant turns, up to the count the positive ratio
    needs. Candidates are tried in a seeded order (first operator of every turn, then second, ...)
    so operators and turns are spread evenly; each variant is re-verified."""
    stats: dict = {"needed": 0, "made": 0, "rejected": 0, "by_operator": {}}
    if labelled.height == 0:
        return labelled.clear(), stats
    pos = int((labelled["label"] == 1).sum())
    need = negatives_needed(pos, labelled.height - pos, positive_ratio)
    stats["needed"] = need
    if need == 0:
        return labelled.clear(), stats
    sources = labelled.filter(pl.col("label") == 1)
    rows = sources.to_dicts()
    parsed_rows, candidates = [], []
    for i, row in enumerate(rows):
        ev = evidence_items(row["evidence"])
        constraints = _constraints_of(row["constraints"])
        parsed = parse_response(row["response"], ev)
        parsed_rows.append((ev, constraints))
        ops = applicable_operators(constraints, parsed)
        ops.sort(key=lambda op, t=row["turn_id"]: derive_seed(seed, DIMENSION, t, op))
        for k, op in enumerate(ops):
            candidates.append((k, derive_seed(seed, DIMENSION, row["turn_id"], op, "order"), i, op))
    candidates.sort()
    made: list[dict] = []
    by_op: Counter = Counter()
    for _, _, i, op in candidates:
        if len(made) >= need:
            break
        row = rows[i]
        ev, constraints = parsed_rows[i]
        rng = random.Random(derive_seed(seed, DIMENSION, row["turn_id"], op))
        new = perturb(op, constraints, parse_response(row["response"], ev), ev, rng)
        if new is None or new == row["response"]:
            stats["rejected"] += 1
            continue
        found = violations(constraints, parse_response(new, ev), ev)
        if OPERATORS[op] not in found:
            stats["rejected"] += 1
            continue
        made.append(
            {**row, "response": new, "violations": found, "label": 0, "is_synthetic": True,
             "label_source": "synthetic", "operator": op}
        )  # fmt: skip
        by_op[op] += 1
    stats["made"] = len(made)
    stats["by_operator"] = dict(sorted(by_op.items()))
    if not made:
        return labelled.clear(), stats
    return pl.DataFrame(made, schema=labelled.schema), stats


def evidence_text(evidence: pl.Series) -> pl.Series:
    """The retrieved items as prompt text: one line per item (set-based in DuckDB)."""
    con = duckdb.connect()
    try:
        con.register("ev", pl.DataFrame({"evidence": evidence}).with_row_index("_row"))
        out = con.sql(
            "SELECT coalesce(nullif(array_to_string(list_transform(evidence, "
            f"lambda it: '- ' || {item_text_sql('it')}), chr(10)), ''), '(no items retrieved)') "
            "AS t FROM ev ORDER BY _row"
        ).pl()
    finally:
        con.close()
    return out["t"].alias("evidence_text")


def assemble_entries(
    labelled: pl.DataFrame,
    synthetic: pl.DataFrame,
    domain: str,
    seed: int,
    positive_ratio: float,
    provenance: dict[str, str | None],
) -> pl.DataFrame:
    """Labelled + synthetic rows -> deduplicated, balanced entry rows (before render and split).

    `provenance`: log_fingerprint, builder_version, template_id, template_hash.
    """
    frames = [f for f in (labelled, synthetic) if f.height]
    if not frames:
        return pl.DataFrame()
    frame = pl.concat(frames, how="vertical_relaxed").with_columns(pl.lit(domain).alias("domain"))
    frame = with_stable_id(frame, "entry_id", DIMENSION, ["domain", "turn_id", "operator"])
    # Exact repeats (same instruction, query and response) keep one entry: the real one first.
    frame = (
        frame.sort(["is_synthetic", "entry_id"])
        .unique(subset=["instruction", "query", "response"], keep="first", maintain_order=True)
        .sort("entry_id")
    )
    frame = balance(frame, positive_ratio, seed, f"{DIMENSION}/{domain}")
    return frame.with_columns(
        pl.lit(DIMENSION).alias("dimension"),
        pl.lit(1.0).alias("label_confidence"),
        evidence_text(frame["evidence"]),
        pl.struct(
            pl.col("user_id_hash"),
            pl.col("request_id"),
            pl.concat_list(pl.col("turn_id")).alias("source_row_ids"),
            pl.lit(provenance.get("log_fingerprint"), dtype=pl.String).alias("log_fingerprint"),
            pl.lit(provenance.get("builder_version"), dtype=pl.String).alias("builder_version"),
            pl.lit(provenance.get("template_id"), dtype=pl.String).alias("template_id"),
            pl.lit(provenance.get("template_hash"), dtype=pl.String).alias("template_hash"),
            pl.lit(None, dtype=pl.String).alias("judge_model"),
            pl.col("operator"),
        ).alias("provenance"),
    )


def describe(frame: pl.DataFrame) -> dict:
    """Asset metadata: label distribution, violations by type, synthetic share by operator."""
    if frame.height == 0:
        return {"rows": 0}
    viol = frame.select(pl.col("violations").explode().drop_nulls()).to_series().value_counts()
    ops = frame.filter(pl.col("is_synthetic")).group_by("operator").len()
    return {
        "rows": frame.height,
        "label_distribution": {
            str(k): int(v) for k, v in frame.group_by("label").len().sort("label").iter_rows()
        },
        "violations_by_type": {str(k): int(v) for k, v in sorted(viol.iter_rows())},
        "synthetic_share_by_operator": {
            str(k): round(int(v) / frame.height, 4) for k, v in sorted(ops.iter_rows())
        },
        "synthetic_share": round(float(frame["is_synthetic"].mean()), 4),
    }
