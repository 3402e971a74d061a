"""Dagster definitions of the instruction-following chain (per domain):
[instruction_following, labelled] -> [instruction_following, synthetic] -> [instruction_following, entries].
"""

from assets.dimensions.common.transcript_assets import TranscriptDimension, transcript_assets
from assets.dimensions.factual_consistency.turns import generated_turn_counts, turn_slices
from assets.dimensions.instruction_following.build import (
    DIMENSION,
    REPEAT_KEY,
    STEP_SCHEMA,
    SYNTHESIS,
    describe,
    label_turns,
)
from assets.dimensions.instruction_following.rubric import with_rubric


def _mismatch_warning(stats: dict) -> str | None:
    """Turns whose parsed instruction disagrees with the logged constraints are worth a look."""
    if not stats["set_aside_mismatch"]:
        return None
    return (
        f"{stats['set_aside_mismatch']} turns set aside: parsed instruction disagrees with "
        f"the constraints column ({stats['mismatches']})"
    )


INSTRUCTION_FOLLOWING = TranscriptDimension(
    name=DIMENSION,
    step_schema=STEP_SCHEMA,
    turn_slices=turn_slices,
    generated_counts=generated_turn_counts,
    label_turns=label_turns,
    synthesis=SYNTHESIS,
    repeat_key=REPEAT_KEY,
    finish_entries=with_rubric,
    describe=describe,
    labelled_description="agent turns (logged and LLM-generated): instruction parsed, response "
    "verified by rule",
    synthetic_description="targeted non-compliant variants of compliant responses",
    label_warning=_mismatch_warning,
)
LABELLED_TABLE = INSTRUCTION_FOLLOWING.labelled_table
SYNTHETIC_TABLE = INSTRUCTION_FOLLOWING.synthetic_table

(
    instruction_following_labelled,
    instruction_following_synthetic,
    instruction_following_entries,
) = transcript_assets(INSTRUCTION_FOLLOWING)
