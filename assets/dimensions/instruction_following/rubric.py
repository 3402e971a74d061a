"""The rubric of an instruction-following entry: the constraints its label decides.

A rule decides the hard constraints (format, item count, length, language, forbidden words, price
and distance limits, items that must be recommended); the soft ones (tone, staying on topic) only
an LLM judge decides. A rubric that asks for a constraint the label never checked would grade a
reward model on what the label does not say, so each entry's rubric lists exactly the constraint
types of its instruction that its label decided: the hard ones, and the soft ones once a judge
decided them (`assets/llm/judged.py` re-renders the prompt then). The prompt says which
constraints of the instruction are left out, and why.
"""

from __future__ import annotations

import polars as pl

from schemas.constraints import HARD_TYPES, SOFT_TYPES

DESCRIPTIONS = {
    "json_format": "output format (valid JSON with the required fields)",
    "item_count": "number of recommended items",
    "max_length": "length in characters",
    "language": "answer language",
    "forbidden_content": "forbidden words",
    "max_price": "price limit (checked against the retrieved items' actual prices)",
    "max_distance_km": "distance limit (checked against the retrieved items' actual distances)",
    "must_mention": "items that must be recommended",
    "tone": "tone",
    "answer_relevance": "relevance to the user's request",
}


def rubric_text(types: list[str], soft_decided: bool) -> str:
    """The rubric lines for an entry whose instruction carries constraint `types`."""
    present = list(dict.fromkeys(types))
    judged = [t for t in present if t in HARD_TYPES or (soft_decided and t in SOFT_TYPES)]
    left_out = [t for t in present if t in SOFT_TYPES and t not in judged]
    listed = "; ".join(DESCRIPTIONS.get(t, t.replace("_", " ")) for t in judged)
    lines = [
        f"- 1 Compliant: the response satisfies every one of these constraints of its instruction: "
        f"{listed}",
        "- 0 Not compliant: the response breaks at least one of them",
    ]
    if left_out:
        lines.append(
            "The instruction's requests about "
            + " and ".join(DESCRIPTIONS[t] for t in left_out)
            + " are not part of this label (no rule decides them and no judge did): do not "
            "judge them."
        )
    return "\n".join(lines)


def with_rubric(frame: pl.DataFrame, soft_decided: pl.Series | None = None) -> pl.DataFrame:
    """`frame` (with `constraints`: list of {type, params}) plus its `rubric` column;
    `soft_decided`: per row, whether a judge decided the soft constraints (default: none)."""
    types = frame.select(
        pl.col("constraints").list.eval(pl.element().struct.field("type"))
    ).to_series()
    decided = soft_decided.to_list() if soft_decided is not None else [False] * frame.height
    return frame.with_columns(
        pl.Series(
            "rubric",
            [rubric_text(t or [], bool(d)) for t, d in zip(types.to_list(), decided, strict=True)],
            dtype=pl.String,
        )
    )
