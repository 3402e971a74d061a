"""The declaration of the repurchase_prediction dimension (read by the RecRM-Bench registry).

Imports only pyarrow and the project's schemas: the registry reads it before anything else.
"""

from pathlib import Path

import pyarrow as pa

from schemas.dimensions import Dimension
from schemas.entries import CONTEXT, HISTORY_EVENT, ITEM, USER

NAME = "repurchase_prediction"

DECLARATION = Dimension(
    name=NAME,
    payload=(
        pa.field("user", USER),
        pa.field("history", pa.list_(HISTORY_EVENT)),
        pa.field("context", CONTEXT),
        pa.field("candidate", ITEM),
        # Days after the first order the label looks at (the observation horizon).
        pa.field("horizon_days", pa.int32()),
        pa.field("label", pa.int8()),
    ),
    label_names={0: "not_reordered", 1: "reordered"},
    description="does the user order this item again within the horizon after first ordering"
    " it (label 1 reordered, 0 not)",
    metrics="binary",
    short_name="RP",
    template=NAME,
    # Entries carry the first order's time in context.ts; the release-wide user and time policy.
    timed=True,
    split_policy="user_and_time",
    # Repurchase is rare: in the sample logs about 3% of first orders are repeated within the
    # 3-day horizon. The profile's 0.2-0.8 would refuse any honest release; below 1% a constant
    # "no" would be nearly the whole task.
    balance_bounds=(0.01, 0.6),
    assets_module="recrm_repurchase.assets",
    templates_dir=Path(__file__).resolve().parent / "templates",
    template_versions={NAME: 1},
    requires_tables=("requests", "events"),
    # The length baseline measures the candidate's title and description; no LLM judge
    # applies (the label is an observed reorder), so the judged step passes entries through.
    shortcut_text="candidate",
    llm_judge=None,
)
