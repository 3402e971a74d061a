"""What an evaluation writes: the per-entry items table, the metrics of each dimension, and the
paper's column order (docs/evaluation.md defines every metric).

`results/<release version>/<name>/items.parquet` holds one row per evaluated entry in ITEMS_SCHEMA;
`summary.json` holds the metrics computed from it (and nothing that cannot be recomputed from it,
besides the configuration and the usage of the scorer).
"""

from __future__ import annotations

import pyarrow as pa

# One row per evaluated entry. Classification dimensions fill gold / prediction / score; item
# ranking fills gold_levels / ranking / candidate_scores (both in the order of the entry's
# `candidates`, except `ranking`, which is the predicted order of item ids).
ITEMS_SCHEMA = pa.schema(
    [
        pa.field("entry_id", pa.string(), nullable=False),
        pa.field("dimension", pa.string(), nullable=False),
        pa.field("domain", pa.string()),
        # The bootstrap's resampling unit: the user (behaviour, ranking) or the entry itself.
        pa.field("unit", pa.string(), nullable=False),
        pa.field("gold", pa.int8()),
        pa.field("gold_levels", pa.list_(pa.int8())),
        pa.field("prediction", pa.int8()),
        pa.field("ranking", pa.list_(pa.string())),
        pa.field("score", pa.float64()),
        pa.field("candidate_scores", pa.list_(pa.float64())),
        # Where the continuous score came from: logprobs, label, score, scores, ranking.
        pa.field("score_source", pa.string()),
        pa.field("parsed_ok", pa.bool_(), nullable=False),
        pa.field("error", pa.string()),
        pa.field("answer", pa.string()),  # the judge's raw answer (judge scorers only)
        pa.field("prompt_tokens", pa.int64()),
        pa.field("completion_tokens", pa.int64()),
    ]
)

# Metrics of each metrics family (schemas/dimensions.py), in the order summaries list them
# (docs/evaluation.md); `METRICS` maps every registered dimension to its family's.
FAMILY_METRICS: dict[str, tuple[str, ...]] = {
    "binary": ("acc", "f1", "macro_f1", "auc"),
    "graded_relevance": ("acc_binary", "f1_binary", "acc", "qwk"),
    "engagement": ("acc", "auc"),
    "ranking": (
        "pairwise_acc",
        "auc",
        "auc_pooled",
        "hr@1",
        "hr@3",
        "hr@5",
        "ndcg@5",
        "ndcg@10",
    ),
}

# The paper's results table: (dimension, column, metric), in its column order. Query-item
# relevance ACC / F1 are on the binary scale (relevant = grade >= 2), as in the release contract.
PAPER_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("instruction_following", "ACC", "acc"),
    ("instruction_following", "F1", "f1"),
    ("factual_consistency", "ACC", "acc"),
    ("factual_consistency", "F1", "f1"),
    ("query_item_relevance", "ACC", "acc_binary"),
    ("query_item_relevance", "F1", "f1_binary"),
    ("behavior_prediction", "ACC", "acc"),
    ("behavior_prediction", "AUC", "auc"),
    ("item_ranking", "ACC", "pairwise_acc"),
    ("item_ranking", "AUC", "auc"),
    ("item_ranking", "HR@3", "hr@3"),
)


def __getattr__(name: str):
    """`METRICS` (dimension -> metrics) and `SHORT_NAMES` (dimension -> column head): views of
    the dimension registry, computed when first read."""
    from schemas.dimensions import registry

    if name == "METRICS":
        value = {n: FAMILY_METRICS[d.metrics] for n, d in registry().items()}
    elif name == "SHORT_NAMES":
        value = {n: d.short_name or n for n, d in registry().items()}
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return value


# Binary relevance: the upper half of the ESCI scale (2 substitute, 3 exact).
RELEVANT_FROM = 2
