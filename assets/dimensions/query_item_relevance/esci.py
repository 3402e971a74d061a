"""The real ESCI shopping-query sample as a check of the relevance labelers: load it in the
labelers' input layout and measure agreement with the human E/S/C/I judgements."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from assets.dimensions.query_item_relevance.lexical import lexical_labels

ESCI_GRADES = {"Exact": 3, "Substitute": 2, "Complement": 1, "Irrelevant": 0}
ESCI_RELATIVE_PATH = Path("shared/data/public/esci_dev/esci_dev.csv")


def default_esci_path(repo_root: Path) -> Path:
    """`<repo>/../shared/data/public/esci_dev/esci_dev.csv`."""
    return repo_root.resolve().parent / ESCI_RELATIVE_PATH


def load_esci(path: Path) -> pl.DataFrame:
    """ESCI rows as query, title, description (description + bullets + brand + color), gold."""
    raw = pl.read_csv(path, infer_schema_length=0)
    needed = {"query", "product_title", "esci_label"}
    if not needed <= set(raw.columns):
        raise ValueError(f"{path}: ESCI file lacks columns {sorted(needed - set(raw.columns))}")
    unknown = raw.filter(~pl.col("esci_label").is_in(list(ESCI_GRADES)))
    if unknown.height:
        raise ValueError(
            f"{path}: row {unknown.row(0, named=True).get('example_id')} has an unknown "
            f"esci_label {unknown['esci_label'][0]!r}"
        )
    extra = [c for c in ("product_description", "product_bullet_point", "product_brand",
                         "product_color") if c in raw.columns]  # fmt: skip
    return raw.select(
        pl.col("query"),
        pl.col("product_title").alias("title"),
        pl.concat_str([pl.col(c).fill_null("") for c in extra], separator=" ").alias("description")
        if extra
        else pl.lit(None, dtype=pl.String).alias("description"),
        pl.col("esci_label").replace_strict(ESCI_GRADES, return_dtype=pl.Int8).alias("gold"),
    )


def agreement(labelled: pl.DataFrame) -> dict[str, float]:
    """Exact-grade and binary (>= 2) agreement of `label` with `gold`, and the row count."""
    n = labelled.height
    if n == 0:
        raise ValueError("no rows to compare")
    exact = (labelled["label"] == labelled["gold"]).sum() / n
    binary = ((labelled["label"] >= 2) == (labelled["gold"] >= 2)).sum() / n
    return {"rows": n, "exact_agreement": float(exact), "binary_agreement": float(binary)}


def esci_agreement(path: Path) -> dict[str, float]:
    return agreement(lexical_labels(load_esci(path)))


def esci_comparison(path: Path) -> dict[str, dict]:
    """Agreement with the human ESCI labels of: the majority class (the sample's most frequent
    grade, an optimistic baseline: it is read from the labels it is scored on), the lexical
    labeler, and the evidence labeler with the vocabulary it can learn from the sample's products
    as a catalog (`decided`: share of pairs it labels at MIN_CONFIDENCE or above; the rest it
    leaves to a judge, and its fallback grade for them is the lexical one)."""
    from assets.dimensions.query_item_relevance.labeler import MIN_CONFIDENCE, label_pairs
    from assets.dimensions.query_item_relevance.vocabulary import learn_vocabulary

    esci = (
        load_esci(path)
        .with_row_index("_i")
        .with_columns(
            pl.format("esci-{}", "_i").alias("item_id"),
            pl.lit(None, dtype=pl.String).alias("category"),
            pl.lit(None, dtype=pl.List(pl.String)).alias("tags"),
            pl.lit(None, dtype=pl.String).alias("attributes"),
            pl.lit(None, dtype=pl.Float64).alias("price"),
        )
    )
    majority = esci["gold"].mode().sort()[0]
    vocabulary = learn_vocabulary(
        esci.select("item_id", "title", "category", "tags", "price", "attributes"), None
    )
    evidence = label_pairs(esci, vocabulary)
    decided = (evidence["label_confidence"] >= MIN_CONFIDENCE).mean()
    return {
        "majority_class": agreement(esci.with_columns(pl.lit(majority).alias("label"))),
        "lexical": agreement(lexical_labels(esci)),
        "evidence_labeler": {**agreement(evidence), "decided": float(decided)},
    }
