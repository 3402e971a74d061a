"""The LLM judges (three built in; a dimension names its own in its declaration): which entries each one reads, and what its verdict means for an entry.

A judge turns its parsed answers into a verdict frame (one row per judged entry):
- `judge_label`: the judge's label, comparable with the entry's current `label` (for agreement
  and the `agree_only` policy); null when the judge did not answer;
- `decides`: whether the judge's verdict becomes the entry's label (the existing label leaves the
  question open: soft constraints, a heuristic or low-confidence label); known before asking;
- `new_label` and the payload columns the verdict replaces (`violations`, `unsupported_claims`);
- `judge_confidence`.
Human labels are never overwritten; they are judged too, as the calibration slice.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import polars as pl
import pyarrow as pa
from pydantic import BaseModel

from assets.dimensions.query_item_relevance.labeler import UNDECIDED_SQL
from schemas.dimensions import DimensionError, get_dimension
from schemas.entries import entry_schema
from schemas.llm_outputs import (
    CONFIDENCE,
    SOFT_CONSTRAINT_TYPES,
    FactualVerdict,
    InstructionVerdict,
    RelevanceVerdict,
)

# Sources whose label the judge may replace when the label is not certain (confidence < 1).
_CERTAIN_SOURCES = ("rule", "log")


@dataclass(frozen=True)
class Judge:
    dimension: str
    template: str  # judge template name in schemas/templates
    output: type[BaseModel]
    text_columns: tuple[str, ...]  # derived text the template needs (assets.llm.text)
    payload: tuple[str, ...]  # entry columns a deciding verdict replaces
    select: Callable[[], pl.Expr]  # entries to judge
    verdicts: Callable[[pl.DataFrame, list], pl.DataFrame]
    # Entries whose rule label is too unsure to release (SQL predicate over entry columns): the
    # judge decides them; with no judge, or no answer from it, they are left out. None: every
    # rule label stands.
    undecided_sql: str | None = None

    def verdict_schema(self) -> pa.Schema:
        entry = entry_schema(self.dimension)
        fields = [
            pa.field("entry_id", pa.string()),
            pa.field("judge_label", pa.int8()),
            pa.field("judge_confidence", pa.float64()),
            pa.field("decides", pa.bool_()),
            pa.field("new_label", pa.int8()),
        ]
        fields += [pa.field(f"new_{name}", entry.field(name).type) for name in self.payload]
        return pa.schema(fields)

    def frame(self, rows: list[dict]) -> pl.DataFrame:
        return pl.from_arrow(pa.Table.from_pylist(rows, schema=self.verdict_schema()))


def _uncertain() -> pl.Expr:
    """Labels a judge may replace: not human, and heuristic or less than fully confident."""
    return (pl.col("label_source") != "human") & (
        ~pl.col("label_source").is_in(_CERTAIN_SOURCES)
        | (pl.col("label_confidence").fill_null(1.0) < 1.0)
    )


# -- instruction following -----------------------------------------------------------------------
def _instruction_verdicts(
    todo: pl.DataFrame, values: list[InstructionVerdict | None]
) -> pl.DataFrame:
    rows = []
    for entry, value in zip(
        todo.select("entry_id", "label_source", "constraints", "violations").iter_rows(named=True),
        values,
        strict=True,
    ):
        types = [c["type"] for c in entry["constraints"] or []]
        soft = [t for t in types if t in SOFT_CONSTRAINT_TYPES]
        human = entry["label_source"] == "human"
        row = {"entry_id": entry["entry_id"], "decides": bool(soft) and not human}
        if value is not None:
            violated = [t for t in dict.fromkeys(value.violated) if t in types]
            hard_violated = [t for t in violated if t not in SOFT_CONSTRAINT_TYPES]
            # The rule label covers the hard constraints only; a human label covers all of them.
            row["judge_label"] = int(not (violated if human else hard_violated))
            row["judge_confidence"] = CONFIDENCE[value.confidence]
            kept = [v for v in entry["violations"] or [] if v not in SOFT_CONSTRAINT_TYPES]
            new = kept + [t for t in violated if t in SOFT_CONSTRAINT_TYPES and t not in kept]
            row["new_violations"] = new
            row["new_label"] = int(not new)
        rows.append(row)
    return INSTRUCTION.frame(rows)


INSTRUCTION = Judge(
    dimension="instruction_following",
    template="judge_instruction",
    output=InstructionVerdict,
    text_columns=("constraints_text",),
    payload=("violations",),
    select=lambda: (
        ~pl.col("is_synthetic").fill_null(False) & (pl.col("label_source") != "synthetic")
    ),
    verdicts=_instruction_verdicts,
)


# -- factual consistency -------------------------------------------------------------------------
def _factual_verdicts(todo: pl.DataFrame, values: list[FactualVerdict | None]) -> pl.DataFrame:
    decides = todo.select(_uncertain().alias("d"))["d"].to_list()
    rows = []
    for entry_id, decide, value in zip(todo["entry_id"], decides, values, strict=True):
        row = {"entry_id": entry_id, "decides": decide}
        if value is not None:
            claims = [c.model_dump() for c in value.unsupported_claims]
            label = int(value.consistent and not claims)
            row |= {
                "judge_label": label,
                "judge_confidence": CONFIDENCE[value.confidence],
                "new_label": label,
                "new_unsupported_claims": claims,
            }
        rows.append(row)
    return FACTUAL.frame(rows)


FACTUAL = Judge(
    dimension="factual_consistency",
    template="judge_factual",
    output=FactualVerdict,
    text_columns=("evidence_text",),
    payload=("unsupported_claims",),
    select=lambda: (
        ~pl.col("is_synthetic").fill_null(False) & (pl.col("label_source") != "synthetic")
    ),
    verdicts=_factual_verdicts,
)


# -- graded query-item relevance -----------------------------------------------------------------
def _relevance_verdicts(todo: pl.DataFrame, values: list[RelevanceVerdict | None]) -> pl.DataFrame:
    # The judge decides the labels the rules leave undecided (labeler.MIN_CONFIDENCE); every
    # other label is judged only to measure agreement.
    decides = todo.select(pl.sql_expr(UNDECIDED_SQL).fill_null(False).alias("d"))["d"].to_list()
    rows = []
    for entry_id, decide, value in zip(todo["entry_id"], decides, values, strict=True):
        row = {"entry_id": entry_id, "decides": decide}
        if value is not None:
            row |= {
                "judge_label": value.label,
                "judge_confidence": CONFIDENCE[value.confidence],
                "new_label": value.label,
            }
        rows.append(row)
    return RELEVANCE.frame(rows)


RELEVANCE = Judge(
    dimension="query_item_relevance",
    template="judge_relevance",
    output=RelevanceVerdict,
    text_columns=("item_text",),
    payload=(),
    select=lambda: pl.col("label_source") != "synthetic",
    verdicts=_relevance_verdicts,
    undecided_sql=UNDECIDED_SQL,
)


@cache
def judge_of(dimension: str) -> Judge | None:
    """The LLM judge the dimension's declaration names (`llm_judge`: "module:attribute", the
    three above for the built-ins), or None: it declares that no judge applies."""
    declared = get_dimension(dimension).llm_judge
    if declared is None:
        return None
    module, _, attribute = declared.partition(":")
    try:
        judge = getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError) as exc:
        raise DimensionError(f"dimension {dimension!r}: llm_judge {declared!r}: {exc}") from exc
    if not isinstance(judge, Judge) or judge.dimension != dimension:
        raise DimensionError(
            f"dimension {dimension!r}: llm_judge {declared!r} is not a Judge of {dimension}"
        )
    return judge
