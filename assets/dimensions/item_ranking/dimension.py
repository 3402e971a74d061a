"""The item_ranking dimension's declaration (schemas/dimensions.py reads it)."""

import pyarrow as pa

from schemas.dimensions import Dimension
from schemas.entries import CONTEXT, HISTORY_EVENT, ITEM, USER

DECLARATION = Dimension(
    name="item_ranking",
    payload=(
        pa.field("user", USER),
        pa.field("history", pa.list_(HISTORY_EVENT)),
        pa.field("context", CONTEXT),
        pa.field("candidates", pa.list_(ITEM)),
        # Engagement level of each candidate, in the order of `candidates` (0 shown, 1 clicked,
        # 2 ordered): ties are expressed here; `gold_ranking` is derived from it (the candidates
        # by level; within a level in the order of `candidates`, an order that means nothing).
        pa.field("candidate_labels", pa.list_(pa.int8())),
        pa.field("gold_ranking", pa.list_(pa.string())),
    ),
    label_names={0: "ignored", 1: "clicked", 2: "ordered"},
    description="the candidates ordered by engagement (gold_ranking: order > click > shown;"
    " equally engaged candidates tie, as their candidate_labels say: their order means nothing)",
    metrics="ranking",
    short_name="IR",
    template="item_ranking",
    label_column="gold_ranking",
    timed=True,
    order=50,
    shortcut_text="candidates",
    llm_judge=None,
)
