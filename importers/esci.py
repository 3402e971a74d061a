"""Amazon Shopping Queries (ESCI): queries, products and the human Exact / Substitute /
Complement / Irrelevant judgement of each (query, product) pair.

Two published layouts are read: the two Parquet files of the dataset's repository
(`shopping_queries_dataset_examples.parquet` with query, product_id, product_locale, esci_label;
`shopping_queries_dataset_products.parquet` with the product text), or one file (CSV or Parquet)
holding both, joined (as in `esci_dev.csv`). One locale is imported (`us` by default), since a
product id names different text in different locales.

Products become items (title, description with the HTML tags removed, brand, colour and bullet
points as attributes; ESCI has no category and no price), judgements become annotations on the
benchmark's 0-3 scale: Exact 3, Substitute 2, Complement 1, Irrelevant 0. ESCI holds no users,
sessions or behaviour: the drop supports query-item relevance only.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from importers.common import ImportFailed, ImportResult, write_drop
from schemas.domain import DomainSettings, SourceSpec, Wording

FORMAT = "esci"
EXAMPLES = "shopping_queries_dataset_examples.parquet"
PRODUCTS = "shopping_queries_dataset_products.parquet"
LABELS = {"Exact": 3, "Substitute": 2, "Complement": 1, "Irrelevant": 0}
# Also the single-letter spelling of some releases.
LABELS |= {k[0]: v for k, v in LABELS.items()}
ANNOTATOR = "esci_human"
_NEEDED = ("query", "product_id", "esci_label", "product_title")


def _read(path: Path) -> pl.DataFrame:
    try:
        if path.suffix == ".parquet":
            return pl.read_parquet(path).with_columns(pl.all().cast(pl.String))
        return pl.read_csv(path, infer_schema=False)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise ImportFailed(f"{path}: cannot be read ({exc})") from exc


def _examples(src: Path) -> pl.DataFrame:
    if src.is_dir():
        examples, products = src / EXAMPLES, src / PRODUCTS
        if not (examples.is_file() and products.is_file()):
            raise ImportFailed(f"{src}: expected {EXAMPLES} and {PRODUCTS}")
        return _read(examples).join(
            _read(products), on=["product_id", "product_locale"], how="left"
        )
    return _read(src)


def import_esci(src: Path, out_root: Path, domain: str, locale: str = "us") -> ImportResult:
    src = Path(src)
    rows = _examples(src)
    lacking = [c for c in _NEEDED if c not in rows.columns]
    if lacking:
        raise ImportFailed(f"{src}: lacks ESCI column(s) {', '.join(lacking)}")
    notes: list[str] = []
    if "product_locale" in rows.columns:
        other = rows.filter(pl.col("product_locale") != locale).height
        if other:
            notes.append(f"{other:,} judgements of locales other than {locale!r} left out")
        rows = rows.filter(pl.col("product_locale") == locale)
    unknown = rows.filter(~pl.col("esci_label").is_in(list(LABELS))).height
    if unknown:
        raise ImportFailed(f"{src}: {unknown:,} rows with an esci_label outside {list(LABELS)}")
    for col in ("product_description", "product_bullet_point", "product_brand", "product_color"):
        if col not in rows.columns:
            rows = rows.with_columns(pl.lit(None, pl.String).alias(col))
    text = (
        pl.col("product_description")
        .str.replace_all(r"<[^>]*>", " ")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )
    attributes = pl.struct(
        pl.col("product_brand").alias("brand"),
        pl.col("product_color").alias("color"),
        pl.col("product_bullet_point").str.split("\n").alias("bullet_points"),
    ).struct.json_encode()
    items = (
        rows.select(
            pl.col("product_id").alias("item_id"),
            pl.col("product_title").alias("title"),
            pl.when(text != "").then(text).alias("description"),
            attributes.alias("attributes"),
        )
        .unique(subset="item_id", keep="first", maintain_order=True)
        .sort("item_id")
    )
    annotations = rows.select(
        pl.col("query").str.strip_chars().alias("query"),
        pl.col("product_id").alias("item_id"),
        pl.col("esci_label").replace_strict(LABELS, return_dtype=pl.Int8).alias("label"),
        pl.lit(ANNOTATOR).alias("annotator"),
    ).filter(pl.col("query") != "")
    repeated = annotations.height - annotations.unique(["query", "item_id"]).height
    if repeated:
        notes.append(f"annotations: {repeated:,} repeated (query, product) judgements written once")
        annotations = annotations.unique(["query", "item_id"], keep="first", maintain_order=True)
    languages = sorted(set(rows["language"].drop_nulls())) if "language" in rows.columns else []
    settings = DomainSettings(
        currency={"us": "USD", "es": "EUR", "jp": "JPY"}.get(locale),
        languages=languages or {"us": ["en"], "es": ["es"], "jp": ["ja"]}.get(locale, []),
        source=SourceSpec(format=FORMAT, description=f"Amazon ESCI, locale {locale}: {src.name}"),
        wording=Wording(platform="an online shopping marketplace", service="online shopping"),
    )
    notes.append("items: no category, no price; no users, requests or events (relevance only)")
    tables = {"items": items, "annotations": annotations}
    return write_drop(out_root, domain, FORMAT, tables, settings, notes)
