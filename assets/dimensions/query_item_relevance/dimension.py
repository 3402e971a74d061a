"""The query_item_relevance dimension's declaration (schemas/dimensions.py reads it)."""

import pyarrow as pa

from schemas.dimensions import Dimension
from schemas.entries import ITEM

DECLARATION = Dimension(
    name="query_item_relevance",
    payload=(
        pa.field("query", pa.string()),
        pa.field("item", ITEM),
        pa.field("label", pa.int8()),
    ),
    label_names={0: "irrelevant", 1: "complement", 2: "substitute", 3: "exact"},
    description="relevance of an item to a query on the ESCI scale (3 exact,"
    " 2 substitute, 1 complement, 0 irrelevant)",
    metrics="graded_relevance",
    short_name="QIR",
    template="query_item_relevance",
    order=30,
    shortcut_text="item",
    llm_judge="assets.llm.judges:RELEVANCE",
)
