"""Query-item relevance entries: sampled (query, item) pairs graded 0-3 on the ESCI scale.

An expert label wins where one exists (label_source `human`, confidence 1.0). Every other pair is
graded by the relevance labeler from what the prompt shows, read with the domain's vocabulary
learned from its catalog and the expert labels of train pairs (label_source `heuristic`,
confidence < 1; see labeler.py): an expert label of a held-out pair never shapes a train label. No engagement enters a label. Labels below the labeler's MIN_CONFIDENCE are written
too: the LLM-judge layer decides them, or leaves them out when no judge is configured.
"""

from __future__ import annotations

import polars as pl

from assets.dimensions.common.entries import finalize_entries
from assets.dimensions.common.provenance import provenance_params
from assets.dimensions.common.splits import DomainSplit, assign_splits, domain_split
from assets.dimensions.common.text import item_text_sql
from assets.dimensions.common.wording import domain_template
from assets.dimensions.query_item_relevance.balance import take_catalog_pairs
from assets.dimensions.query_item_relevance.labeler import MIN_CONFIDENCE, label_pairs
from assets.dimensions.query_item_relevance.sampling import candidate_pairs_sql
from assets.dimensions.query_item_relevance.vocabulary import DomainVocabulary, learn_vocabulary
from assets.staging.tables import raw_source
from core.warehouse import Warehouse

DIMENSION = "query_item_relevance"


def domain_vocabulary(
    wh: Warehouse, domain: str, learn_from: pl.DataFrame | None = None
) -> DomainVocabulary:
    """The domain's vocabulary from its item profiles and the expert annotations of the
    (query, item_id) pairs in `learn_from` (None: every annotation)."""
    items = wh.query(
        "SELECT item.item_id, item.title, item.category, item.tags, item.price, "
        "item.attributes FROM stg_item_profiles WHERE domain = $domain ORDER BY item_id",
        {"domain": domain},
    )
    annotations = wh.query(
        f"SELECT trim(query) AS query, item_id, label FROM {raw_source(wh, 'annotations')} "
        "WHERE domain = $domain AND label BETWEEN 0 AND 3 AND query IS NOT NULL "
        "ORDER BY query, item_id, label",
        {"domain": domain},
    )
    if learn_from is not None:
        annotations = annotations.join(
            learn_from.select("query", "item_id").unique(), on=["query", "item_id"], how="semi"
        )
    return learn_vocabulary(items, annotations)


def train_pairs(pairs: pl.DataFrame, split: DomainSplit) -> pl.DataFrame:
    """The pairs the split policy places in train: the only ones whose expert labels may teach
    the labeler (a held-out pair's label must not shape the labels of train entries)."""
    keys = pairs.select(
        "entry_id", pl.struct("user_id_hash").alias("provenance"), "request_ts", "query", "item_id"
    )
    placed = assign_splits(keys, DIMENSION, split, time_column="request_ts")
    return placed.filter(pl.col("split") == "train").select("query", "item_id")


def label_with_humans_first(pairs: pl.DataFrame, vocabulary: DomainVocabulary) -> pl.DataFrame:
    """Pairs + label (int8), label_source and label_confidence: human where annotated."""
    scored = label_pairs(pairs, vocabulary)
    human = pl.col("human_label").is_not_null()
    return scored.with_columns(
        pl.when(human)
        .then(pl.col("human_label"))
        .otherwise(pl.col("label"))
        .cast(pl.Int8)
        .alias("label"),
        pl.when(human).then(pl.lit("human")).otherwise(pl.lit("heuristic")).alias("label_source"),
        pl.when(human)
        .then(pl.lit(1.0))
        .otherwise(pl.col("label_confidence"))
        .alias("label_confidence"),
    )


def build_relevance_entries(
    wh: Warehouse, domain: str, seed: int, fractions: dict[str, float], cap: int | None = None
) -> tuple[pl.DataFrame, dict]:
    """(the domain's relevance entries, at most `cap` candidate pairs (None = all), split by
    the release's policy; metadata: counts held out, by evidence, below MIN_CONFIDENCE)."""
    template = domain_template(wh, DIMENSION, domain)
    prov = provenance_params(wh, domain, DIMENSION, template)
    split = domain_split(wh, domain, seed, fractions)
    pairs = wh.query(
        f"SELECT *, {item_text_sql('item')} AS item_text FROM ("
        f"{candidate_pairs_sql(raw_source(wh, 'annotations'), raw_source(wh, 'requests'), seed, cap, split)}"
        ") s",
        {"domain": domain},
    )
    held_by_sampling = int(pairs["held_out"].sum()) if pairs.height else 0
    pairs = pairs.filter(~pl.col("held_out"))
    vocabulary = domain_vocabulary(wh, domain, learn_from=train_pairs(pairs, split))
    candidates = label_with_humans_first(pairs, vocabulary)
    labelled = take_catalog_pairs(candidates)
    frame = labelled.with_columns(
        pl.lit(DIMENSION).alias("dimension"),
        pl.struct(
            pl.col("user_id_hash"),
            pl.col("request_id"),
            pl.col("source_row_ids"),
            pl.lit(prov["log_fingerprint"], dtype=pl.String).alias("log_fingerprint"),
            pl.lit(prov["builder_version"]).alias("builder_version"),
            pl.lit(prov["template_id"]).alias("template_id"),
            pl.lit(prov["template_hash"]).alias("template_hash"),
            pl.lit(None, dtype=pl.String).alias("judge_model"),
            pl.lit(None, dtype=pl.String).alias("operator"),
        ).alias("provenance"),
    )
    entries, held_by_split = finalize_entries(
        frame, DIMENSION, template, split, time_column="request_ts"
    )
    rule = labelled.filter(pl.col("label_source") == "heuristic")
    metadata = {
        "vocabulary": vocabulary.describe(),
        "pairs_by_origin": _counts(labelled, "origin"),
        "catalog_candidates": int((candidates["origin"] == "catalog").sum()),
        "rule_labels_by_evidence": _counts(rule, "evidence"),
        "rule_labels_below_min_confidence": int((rule["label_confidence"] < MIN_CONFIDENCE).sum()),
    }
    return entries, {"held_out": held_by_sampling + held_by_split, **metadata}


def _counts(frame: pl.DataFrame, column: str) -> dict[str, int]:
    if frame.height == 0:
        return {}
    return {str(k): int(n) for k, n in frame.group_by(column).len().sort(column).iter_rows()}
