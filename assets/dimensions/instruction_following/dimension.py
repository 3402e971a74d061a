"""The instruction_following dimension's declaration (schemas/dimensions.py reads it)."""

import pyarrow as pa

from schemas.dimensions import Dimension
from schemas.entries import CONSTRAINT

DECLARATION = Dimension(
    name="instruction_following",
    payload=(
        pa.field("instruction", pa.string()),
        pa.field("query", pa.string()),
        pa.field("response", pa.string()),
        pa.field("constraints", pa.list_(CONSTRAINT)),
        pa.field("violations", pa.list_(pa.string())),
        pa.field("is_synthetic", pa.bool_()),
        pa.field("label", pa.int8()),
    ),
    label_names={0: "violates", 1: "complies"},
    description="does the agent's response comply with its instruction's constraints"
    " (label 1 compliant, 0 not)",
    metrics="binary",
    short_name="IF",
    template="instruction_following",
    order=10,
    shortcut_text="response",
    llm_judge="assets.llm.judges:INSTRUCTION",
)
