"""The factual_consistency dimension's declaration (schemas/dimensions.py reads it)."""

import pyarrow as pa

from schemas.dimensions import Dimension
from schemas.entries import ITEM, UNSUPPORTED_CLAIM

DECLARATION = Dimension(
    name="factual_consistency",
    payload=(
        pa.field("query", pa.string()),
        pa.field("evidence", pa.list_(ITEM)),
        pa.field("response", pa.string()),
        pa.field("unsupported_claims", pa.list_(UNSUPPORTED_CLAIM)),
        pa.field("is_synthetic", pa.bool_()),
        pa.field("label", pa.int8()),
    ),
    label_names={0: "hallucinated", 1: "consistent"},
    description="is every item fact in the response supported by the retrieved evidence"
    " (label 1 consistent, 0 hallucinated)",
    metrics="binary",
    short_name="FC",
    template="factual_consistency",
    order=20,
    shortcut_text="response",
    llm_judge="assets.llm.judges:FACTUAL",
)
