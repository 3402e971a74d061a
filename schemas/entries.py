"""Entry tables: the release contract of ../shared/spec/benchmark-schema.md as pyarrow schemas.

Every dimension's entry table = COMMON_FIELDS + its payload fields. The same schemas type the
warehouse entry tables (`entries_<dimension>`), the release shards, and the dataset card.

The dimensions themselves are declared in the registry (schemas/dimensions.py: the built-in
folders and installed packages); `DIMENSIONS`, `PAYLOAD_FIELDS`, `LABEL_COLUMN`, `LABEL_VALUES`,
`LABEL_NAMES` and `TIMED_DIMENSIONS` are views of it, computed when first read.
"""

from __future__ import annotations

import pyarrow as pa

SCHEMA_VERSION = "1.1"

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


def _registry_views() -> dict[str, object]:
    from schemas.dimensions import registry

    dims = registry()
    return {
        "DIMENSIONS": tuple(dims),
        "PAYLOAD_FIELDS": {n: list(d.payload) for n, d in dims.items()},
        # The label column of each dimension (item_ranking's label is a list: gold_ranking).
        "LABEL_COLUMN": {n: d.label_column for n, d in dims.items()},
        # Allowed label values of the dimensions with a scalar label.
        "LABEL_VALUES": {n: d.label_values for n, d in dims.items() if d.label_values},
        # What each label value means (item_ranking: the values of `candidate_labels`).
        "LABEL_NAMES": {n: dict(d.label_names) for n, d in dims.items()},
        # Every dimension is split by one release-wide policy, by user and time
        # (assets/dimensions/common/splits.py). These carry the entry's time in `context.ts`, so
        # their expectations check the time side of it on the entries themselves.
        "TIMED_DIMENSIONS": tuple(n for n, d in dims.items() if d.timed),
    }


def __getattr__(name: str):
    if name in _REGISTRY_VIEWS:
        return _registry_views()[name]  # the registry itself is cached
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_REGISTRY_VIEWS = (
    "DIMENSIONS",
    "PAYLOAD_FIELDS",
    "LABEL_COLUMN",
    "LABEL_VALUES",
    "LABEL_NAMES",
    "TIMED_DIMENSIONS",
)


def entry_schema(dimension: str) -> pa.Schema:
    from schemas.dimensions import get_dimension

    return pa.schema(COMMON_FIELDS + list(get_dimension(dimension).payload))


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
