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
