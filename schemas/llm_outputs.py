"""JSON output schemas of the LLM judges and the response generator (pydantic models).

The client sends `model_json_schema()` with every request (llama.cpp grammar-constrains decoding
to it) and validates every answer against the model. The schemas stay inside the subset grammar
converters support: enums instead of numeric ranges, short bounded lists, no string length bounds
(llama.cpp expands `maxLength: n` into n nested rules; `max_tokens` bounds the length instead),
every field required.
Confidence is a word the judge picks; `CONFIDENCE` maps it to the stored float.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.constraints import SOFT_TYPES

Confidence = Literal["low", "medium", "high"]
CONFIDENCE: dict[str, float] = {"low": 0.5, "medium": 0.75, "high": 0.95}

# Constraint types the rule verifier leaves to the judge.
SOFT_CONSTRAINT_TYPES = SOFT_TYPES


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InstructionVerdict(_Strict):
    """Instruction-following judge: which of the listed constraints the response breaks."""

    violated: list[str] = Field(
        max_length=8, description="types of the listed constraints the response breaks"
    )
    compliant: bool = Field(description="true when the response meets every listed constraint")
    confidence: Confidence


class Claim(_Strict):
    item_id: str
    field: str = Field(description="the item fact the claim is about")
    claimed: str = Field(description="what the response says")
    actual: str = Field(description="what the evidence says")


class FactualVerdict(_Strict):
    """Factual-consistency judge: the response's claims the evidence does not support."""

    unsupported_claims: list[Claim] = Field(max_length=5)
    consistent: bool = Field(description="true when every claim is supported by the evidence")
    confidence: Confidence


class RelevanceVerdict(_Strict):
    """Graded relevance judge on the ESCI scale: 3 exact, 2 substitute, 1 complement, 0 irrelevant."""

    label: Literal[0, 1, 2, 3]
    confidence: Confidence


class GeneratedResponse(_Strict):
    """The response generator: the agent's answer to one request."""

    response: str = Field(min_length=1)
