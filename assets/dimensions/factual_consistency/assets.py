"""Dagster definitions of the factual-consistency chain (per domain):
[factual_consistency, labelled] -> [factual_consistency, synthetic] -> [factual_consistency, entries].
"""

from assets.dimensions.common.transcript_assets import TranscriptDimension, transcript_assets
from assets.dimensions.factual_consistency.build import (
    DIMENSION,
    REPEAT_KEY,
    STEP_SCHEMA,
    SYNTHESIS,
    describe,
    label_turns,
)
from assets.dimensions.factual_consistency.synthesis import item_category_names
from assets.dimensions.factual_consistency.turns import generated_turn_counts, turn_slices

FACTUAL_CONSISTENCY = TranscriptDimension(
    name=DIMENSION,
    step_schema=STEP_SCHEMA,
    turn_slices=turn_slices,
    generated_counts=generated_turn_counts,
    label_turns=label_turns,
    label_context=item_category_names,
    synthesis=SYNTHESIS,
    repeat_key=REPEAT_KEY,
    describe=describe,
    labelled_description="agent turns (logged and LLM-generated): every claim about a retrieved "
    "item checked by rule",
    synthetic_description="planted hallucinations in consistent responses",
)
LABELLED_TABLE = FACTUAL_CONSISTENCY.labelled_table
SYNTHETIC_TABLE = FACTUAL_CONSISTENCY.synthetic_table

(
    factual_consistency_labelled,
    factual_consistency_synthetic,
    factual_consistency_entries,
) = transcript_assets(FACTUAL_CONSISTENCY)
