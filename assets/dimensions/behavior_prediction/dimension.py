"""The behavior_prediction dimension's declaration (schemas/dimensions.py reads it)."""

import pyarrow as pa

from schemas.dimensions import Dimension
from schemas.entries import CONTEXT, HISTORY_EVENT, ITEM, USER

DECLARATION = Dimension(
    name="behavior_prediction",
    payload=(
        pa.field("user", USER),
        pa.field("history", pa.list_(HISTORY_EVENT)),
        pa.field("context", CONTEXT),
        pa.field("candidate", ITEM),
        pa.field("label", pa.int8()),
    ),
    label_names={0: "ignored", 1: "clicked", 2: "ordered"},
    description="the user's reaction to a shown item given profile, history and context"
    " (0 ignored, 1 clicked, 2 ordered)",
    metrics="engagement",
    short_name="UBP",
    template="behavior_prediction",
    timed=True,
    order=40,
    shortcut_text="candidate",
    llm_judge=None,
)
