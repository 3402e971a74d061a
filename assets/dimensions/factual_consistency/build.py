"""Factual consistency, as plain functions: check every claim a response makes about its
retrieved items, synthesize hallucinations from consistent responses, and assemble entries.

Label 1 = every claim is supported by the evidence; 0 = at least one unsupported claim (listed in
`unsupported_claims` as {item_id, field, claimed, actual}).
"""

from __future__ import annotations

import random
from collections import Counter

import polars as pl

from assets.dimensions.factual_consistency.balance import balance, negatives_needed
from assets.dimensions.factual_consistency.claims import check_claims
from assets.dimensions.factual_consistency.evidence import evidence_items
from assets.dimensions.factual_consistency.responses import parse_response
from assets.dimensions.factual_consistency.synthesis import applicable_operators, perturb
from assets.dimensions.instruction_following.build import evidence_text
from core.ids import derive_seed, with_stable_id

DIMENSION = "factual_consistency"
CLAIMS_DTYPE = pl.List(
    pl.Struct({"item_id": pl.String, "field": pl.String, "claimed": pl.String, "actual": pl.String})
)
LABELLED_COLUMNS = [
    "domain",
    "turn_id",
    "request_id",
    "user_id_hash",
    "query",
    "ts",
    "response",
    "evidence",
    "unsupported_claims",
    "label",
    "is_synthetic",
    "label_source",
    "operator",
]


def label_turns(turns: pl.DataFrame) -> tuple[pl.DataFrame, dict]:
    """Rule labels from the claim checker for every turn; returns (labelled, stats)."""
    stats: dict = {"turns": turns.height}
    if turns.height == 0:
        return pl.DataFrame(), stats
    claims_col = []
    made: Counter = Counter()
    for response, evidence in zip(
        turns["response"].to_list(), turns["evidence"].to_list(), strict=True
    ):
        ev = evidence_items(evidence)
        parsed = parse_response(response or "", ev)
        for rec in parsed.recommendations:
            made["name"] += 1
            made.update(c.field for c in rec.claims)
        claims_col.append(check_claims(parsed, ev))
    out = turns.with_columns(pl.Series("unsupported_claims", claims_col, dtype=CLAIMS_DTYPE))
    out = out.with_columns(
        (pl.col("unsupported_claims").list.len() == 0).cast(pl.Int8).alias("label"),
        pl.lit(False).alias("is_synthetic"),
        pl.lit("rule").alias("label_source"),
        pl.lit(None, dtype=pl.String).alias("operator"),
    ).select(LABELLED_COLUMNS)
    stats["labelled"] = out.height
    stats["claims_by_field"] = dict(sorted(made.items()))
    return out, stats


def synthesize(
    labelled: pl.DataFrame, seed: int, positive_ratio: float
) -> tuple[pl.DataFrame, dict]:
    """Hallucinated variants of consistent responses, up to the count the positive ratio needs;
    each variant is re-checked and kept only when the checker finds the planted error."""
    stats: dict = {"needed": 0, "made": 0, "rejected": 0, "by_operator": {}}
    if labelled.height == 0:
        return labelled.clear(), stats
    pos = int((labelled["label"] == 1).sum())
    need = negatives_needed(pos, labelled.height - pos, positive_ratio)
    stats["needed"] = need
    if need == 0:
        return labelled.clear(), stats
    rows = labelled.filter(pl.col("label") == 1).to_dicts()
    evs, candidates = [], []
    for i, row in enumerate(rows):
        ev = evidence_items(row["evidence"])
        evs.append(ev)
        ops = applicable_operators(parse_response(row["response"], ev), ev)
        ops.sort(key=lambda op, t=row["turn_id"]: derive_seed(seed, DIMENSION, t, op))
        for k, op in enumerate(ops):
            candidates.append((k, derive_seed(seed, DIMENSION, row["turn_id"], op, "order"), i, op))
    candidates.sort()
    made: list[dict] = []
    by_op: Counter = Counter()
    for _, _, i, op in candidates:
        if len(made) >= need:
            break
        row, ev = rows[i], evs[i]
        rng = random.Random(derive_seed(seed, DIMENSION, row["turn_id"], op))
        new = perturb(op, parse_response(row["response"], ev), ev, rng)
        found = check_claims(parse_response(new, ev), ev) if new and new != row["response"] else []
        if not found:
            stats["rejected"] += 1
            continue
        made.append(
            {**row, "response": new, "unsupported_claims": found, "label": 0, "is_synthetic": True,
             "label_source": "synthetic", "operator": op}
        )  # fmt: skip
        by_op[op] += 1
    stats["made"] = len(made)
    stats["by_operator"] = dict(sorted(by_op.items()))
    if not made:
        return labelled.clear(), stats
    return pl.DataFrame(made, schema=labelled.schema), stats


def assemble_entries(
    labelled: pl.DataFrame,
    synthetic: pl.DataFrame,
    domain: str,
    seed: int,
    positive_ratio: float,
    provenance: dict[str, str | None],
) -> pl.DataFrame:
    """Labelled + synthetic rows -> deduplicated, balanced entry rows (before render and split)."""
    frames = [f for f in (labelled, synthetic) if f.height]
    if not frames:
        return pl.DataFrame()
    frame = pl.concat(frames, how="vertical_relaxed").with_columns(pl.lit(domain).alias("domain"))
    frame = with_stable_id(frame, "entry_id", DIMENSION, ["domain", "turn_id", "operator"])
    ev_text = evidence_text(frame["evidence"])
    frame = frame.with_columns(ev_text)
    # Exact repeats (same query, evidence and response) keep one entry: the real one first.
    frame = (
        frame.sort(["is_synthetic", "entry_id"])
        .unique(subset=["query", "evidence_text", "response"], keep="first", maintain_order=True)
        .sort("entry_id")
    )
    frame = balance(frame, positive_ratio, seed, f"{DIMENSION}/{domain}")
    return frame.with_columns(
        pl.lit(DIMENSION).alias("dimension"),
        pl.lit(1.0).alias("label_confidence"),
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
    """Asset metadata: label distribution, unsupported claims by field, synthetic share by operator."""
    if frame.height == 0:
        return {"rows": 0}
    fields = (
        frame.select(pl.col("unsupported_claims").explode().struct.field("field").drop_nulls())
        .to_series()
        .value_counts()
    )
    ops = frame.filter(pl.col("is_synthetic")).group_by("operator").len()
    return {
        "rows": frame.height,
        "label_distribution": {
            str(k): int(v) for k, v in frame.group_by("label").len().sort("label").iter_rows()
        },
        "unsupported_claims_by_field": {str(k): int(v) for k, v in sorted(fields.iter_rows())},
        "synthetic_share_by_operator": {
            str(k): round(int(v) / frame.height, 4) for k, v in sorted(ops.iter_rows())
        },
        "synthetic_share": round(float(frame["is_synthetic"].mean()), 4),
    }
