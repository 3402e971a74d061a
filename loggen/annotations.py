"""Expert relevance labels (ESCI 0-3) for a sample of shown (query, item) pairs.

Labels derive from the simulator's latent true relevance with annotator noise: an expert agrees
with the truth most of the time and is otherwise one grade off; a share of the pairs gets a second,
independent expert, so the gold slice carries real disagreement. The sample is stratified by true
grade so that rare grades (exact matches under a budget, complements) are represented.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from core.ids import derive_seed

ANNOTATORS = 6
AGREEMENT = 0.85  # P(expert label == true grade)
# Note per latent reason (see funnel.imp_why), zh / en; exact matches carry no note.
REASONS = (
    (None, None),
    ("超出预算", "over the stated budget"),
    ("缺少要求的特点", "lacks the requested feature"),
    ("同类替代", "similar kind, a substitute"),
    ("可搭配的商品", "complementary, not what was asked"),
    ("不相关", "unrelated"),
)


def annotate_block(
    rel: np.ndarray, seed: int, domain: str, block: int, quota: int, second_share: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(impression index, label, annotator) rows for up to `quota` impressions of one block."""
    rng = np.random.default_rng(derive_seed(seed, domain, "annotations", block))
    if quota <= 0 or len(rel) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.astype(np.int8), empty
    freq = np.bincount(rel, minlength=4).astype(float)
    weight = 1.0 / freq[rel]
    size = min(quota, len(rel))
    picked = np.sort(rng.choice(len(rel), size, replace=False, p=weight / weight.sum()))
    second = rng.random(size) < second_share
    first_expert = rng.integers(0, ANNOTATORS, size)
    other_expert = (first_expert + rng.integers(1, ANNOTATORS, size)) % ANNOTATORS
    imp = np.concatenate([picked, picked[second]])
    expert = np.concatenate([first_expert, other_expert[second]])
    truth = rel[imp]
    off = np.where(rng.random(len(imp)) < AGREEMENT, 0, np.where(rng.random(len(imp)) < 0.5, -1, 1))
    label = np.clip(truth + off, 0, 3).astype(np.int8)
    order = np.lexsort((expert, imp))
    return imp[order], label[order], expert[order]


def annotation_frames(
    queries: pl.Series,
    query_zh: np.ndarray,
    item_ids: pl.Series,
    imp_rel: np.ndarray,
    imp_why: np.ndarray,
    label: np.ndarray,
    expert: np.ndarray,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(annotations table, truth) for annotation rows already resolved to query and item.

    All arguments are per annotation row. The note explains the label in the query's language
    when the expert saw a reason to mark it down.
    """
    notes_zh = pl.Series([r[0] for r in REASONS], dtype=pl.String)
    notes_en = pl.Series([r[1] for r in REASONS], dtype=pl.String)
    why = pl.Series(imp_why.astype(np.int64))
    note = (
        pl.DataFrame({"zh": notes_zh.gather(why), "en": notes_en.gather(why), "q": query_zh})
        .select(pl.when(pl.col("q")).then(pl.col("zh")).otherwise(pl.col("en")))
        .to_series()
    )
    frame = pl.DataFrame(
        {
            "query": queries,
            "item_id": item_ids,
            "label": pl.Series(label, dtype=pl.Int8),
            "annotator": pl.Series([f"expert_{e + 1:02d}" for e in range(ANNOTATORS)]).gather(
                pl.Series(expert.astype(np.int64))
            ),
            "note": note,
        }
    )
    frame = frame.with_columns(
        pl.when(pl.col("label") < 3).then(pl.col("note")).otherwise(None).alias("note")
    )
    truth = pl.DataFrame(
        {"query": queries, "item_id": item_ids, "true_label": pl.Series(imp_rel, dtype=pl.Int8)}
    ).unique(["query", "item_id"], keep="first", maintain_order=True)
    return frame, truth
