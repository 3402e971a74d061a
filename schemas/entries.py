"""Entry tables: the release contract of ../shared/spec/benchmark-schema.md as pyarrow schemas.

Every dimension's entry table = COMMON_FIELDS + its payload fields. The same schemas type the
warehouse entry tables (`entries_<dimension>`), the release shards, and the dataset card.
"""

from __future__ import annotations

import pyarrow as pa

SCHEMA_VERSION = "1.1"

DIMENSIONS = (
    "instruction_following",
    "factual_consistency",
    "query_item_relevance",
    "behavior_prediction",
    "item_ranking",
)
SPLITS = ("train", "validation", "test")
# "sampled": a behaviour or ranking label whose negative was drawn from the catalog because the
# logs have no impressions (staging/negatives.py).
LABEL_SOURCES = ("rule", "llm_judge", "synthetic", "log", "human", "heuristic", "sampled")

TS = pa.timestamp("us")

ITEM = pa.struct(
    [
        ("item_id", pa.string()),
        ("title", pa.string()),
        ("category", pa.string()),
        ("tags", pa.list_(pa.string())),
        ("price", pa.float64()),
        ("rating", pa.float64()),
        ("description", pa.string()),
        ("attributes", pa.string()),  # JSON object text: portable across readers
    ]
)

PROVENANCE = pa.struct(
    [
        ("user_id_hash", pa.string()),
        ("request_id", pa.string()),
        ("source_row_ids", pa.list_(pa.string())),
        ("log_fingerprint", pa.string()),
        ("builder_version", pa.string()),
        ("template_id", pa.string()),
        ("template_hash", pa.string()),
        ("judge_model", pa.string()),
        ("operator", pa.string()),
    ]
)

USER = pa.struct(
    [
        ("user_id_hash", pa.string()),
        ("city", pa.string()),
        ("age_band", pa.string()),
        ("gender", pa.string()),
        ("member_level", pa.string()),
        ("preferences", pa.string()),  # JSON object text
    ]
)

HISTORY_EVENT = pa.struct(
    [
        ("item_id", pa.string()),
        ("title", pa.string()),
        ("category", pa.string()),
        ("action", pa.string()),
        ("ts", TS),
    ]
)

CONTEXT = pa.struct(
    [
        ("query", pa.string()),
        ("ts", TS),
        ("city", pa.string()),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
        ("scene", pa.string()),
    ]
)

CONSTRAINT = pa.struct([("type", pa.string()), ("params", pa.string())])  # params: JSON text
UNSUPPORTED_CLAIM = pa.struct(
    [
        ("item_id", pa.string()),
        ("field", pa.string()),
        ("claimed", pa.string()),
        ("actual", pa.string()),
    ]
)

COMMON_FIELDS = [
    pa.field("entry_id", pa.string(), nullable=False),
    pa.field("dimension", pa.string(), nullable=False),
    pa.field("domain", pa.string(), nullable=False),
    pa.field("split", pa.string(), nullable=False),
    pa.field("prompt", pa.string(), nullable=False),
    pa.field("answer", pa.string(), nullable=False),
    pa.field("label_source", pa.string(), nullable=False),
    pa.field("label_confidence", pa.float64()),
    pa.field("provenance", PROVENANCE),
]

PAYLOAD_FIELDS: dict[str, list[pa.Field]] = {
    "instruction_following": [
        pa.field("instruction", pa.string()),
        pa.field("query", pa.string()),
        pa.field("response", pa.string()),
        pa.field("constraints", pa.list_(CONSTRAINT)),
        pa.field("violations", pa.list_(pa.string())),
        pa.field("is_synthetic", pa.bool_()),
        pa.field("label", pa.int8()),
    ],
    "factual_consistency": [
        pa.field("query", pa.string()),
        pa.field("evidence", pa.list_(ITEM)),
        pa.field("response", pa.string()),
        pa.field("unsupported_claims", pa.list_(UNSUPPORTED_CLAIM)),
        pa.field("is_synthetic", pa.bool_()),
        pa.field("label", pa.int8()),
    ],
    "query_item_relevance": [
        pa.field("query", pa.string()),
        pa.field("item", ITEM),
        pa.field("label", pa.int8()),
    ],
    "behavior_prediction": [
        pa.field("user", USER),
        pa.field("history", pa.list_(HISTORY_EVENT)),
        pa.field("context", CONTEXT),
        pa.field("candidate", ITEM),
        pa.field("label", pa.int8()),
    ],
    "item_ranking": [
        pa.field("user", USER),
        pa.field("history", pa.list_(HISTORY_EVENT)),
        pa.field("context", CONTEXT),
        pa.field("candidates", pa.list_(ITEM)),
        # Engagement level of each candidate, in the order of `candidates` (0 shown, 1 clicked,
        # 2 ordered): ties are expressed here; `gold_ranking` is derived from it (the candidates
        # by level; within a level in the order of `candidates`, an order that means nothing).
        pa.field("candidate_labels", pa.list_(pa.int8())),
        pa.field("gold_ranking", pa.list_(pa.string())),
    ],
}

# The label column of each dimension and its allowed values (item_ranking's label is a list).
LABEL_COLUMN = {d: ("gold_ranking" if d == "item_ranking" else "label") for d in DIMENSIONS}
LABEL_VALUES: dict[str, tuple[int, ...]] = {
    "instruction_following": (0, 1),
    "factual_consistency": (0, 1),
    "query_item_relevance": (0, 1, 2, 3),
    "behavior_prediction": (0, 1, 2),
}
# What each label value means (item_ranking: the values of `candidate_labels`).
LABEL_NAMES: dict[str, dict[int, str]] = {
    "instruction_following": {0: "violates", 1: "complies"},
    "factual_consistency": {0: "hallucinated", 1: "consistent"},
    "query_item_relevance": {0: "irrelevant", 1: "complement", 2: "substitute", 3: "exact"},
    "behavior_prediction": {0: "ignored", 1: "clicked", 2: "ordered"},
    "item_ranking": {0: "ignored", 1: "clicked", 2: "ordered"},
}
# Every dimension is split by one release-wide policy, by user and time
# (assets/dimensions/common/splits.py). These carry the entry's time in `context.ts`, so their
# expectations check the time side of it on the entries themselves.
TIMED_DIMENSIONS = ("behavior_prediction", "item_ranking")


def entry_schema(dimension: str) -> pa.Schema:
    if dimension not in PAYLOAD_FIELDS:
        raise KeyError(f"unknown dimension {dimension!r}; known: {', '.join(DIMENSIONS)}")
    return pa.schema(COMMON_FIELDS + PAYLOAD_FIELDS[dimension])


# Columns whose values LABEL_NAMES names. The warehouse keeps them int8; a release widens them to
# int64, the storage type of a Hugging Face `ClassLabel`, so readers see the names
# (schemas/features.py) without the card.
LABEL_NAME_COLUMNS = ("label", "candidate_labels")
RELEASE_LABEL_TYPE = pa.int64()


def _widen_label(field: pa.Field) -> pa.Field:
    if field.name not in LABEL_NAME_COLUMNS:
        return field
    if pa.types.is_list(field.type):
        return field.with_type(pa.list_(RELEASE_LABEL_TYPE))
    return field.with_type(RELEASE_LABEL_TYPE)


def release_schema(dimension: str) -> pa.Schema:
    """The columns of a release shard: `entry_schema` with the label columns widened to int64
    (without the Hugging Face metadata, which `schemas.features.release_arrow_schema` adds)."""
    return pa.schema([_widen_label(f) for f in entry_schema(dimension)])


def entries_table(dimension: str) -> str:
    """Name of the warehouse table holding a dimension's labelled entries (all domains)."""
    return f"entries_{dimension}"
