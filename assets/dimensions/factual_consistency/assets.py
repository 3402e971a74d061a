"""Dagster definitions of the factual-consistency chain (per domain):
[factual_consistency, labelled] -> [factual_consistency, synthetic] -> [factual_consistency, entries].
"""

from assets.dimensions.common.transcript_assets import TranscriptDimension, transcript_assets
from assets.dimensions.factual_consistency.build import (
    DIMENSION,
    STEP_SCHEMA,
    assemble_entries,
    describe,
    label_turns,
    synthesize,
)

FACTUAL_CONSISTENCY = TranscriptDimension(
    name=DIMENSION,
    step_schema=STEP_SCHEMA,
    label_turns=label_turns,
    synthesize=synthesize,
    assemble_entries=assemble_entries,
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
