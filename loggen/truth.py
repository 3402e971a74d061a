"""The generator's ground truth, written beside a drop (`<out>/_truth/<domain>/`) and read back.

Everything an audit needs to measure a labeler against what the simulator planted, without
re-running it:
- `impressions_truth.parquet`: every impression's latent relevance grade (ESCI 0-3), why it has
  that grade, and its display position;
- `requests_truth.parquet`: every request's latent intent (category key, price cap, required
  feature), from which the grade of the query to *any* item follows;
- `items_truth.parquet`: every item's category key, feature keys, price and latent quality;
- `category_grades.parquet`: the grade of an item category for a query's intent category when
  the query's modifiers are met (3 same category, 2 substitute, 1 complement, 0 unrelated).

`grade_pairs` applies the simulator's rule to (request, item) pairs from these files: a same-
category item that breaks the query's price cap or lacks its required feature is a substitute
(2); otherwise the category grade holds. Tests check that it reproduces every impression's grade.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

from loggen.catalog import Domain
from loggen.funnel import BlockLogs, DomainModel
from loggen.items import ItemCatalog

IMPRESSIONS_TRUTH = "impressions_truth.parquet"
REQUESTS_TRUTH = "requests_truth.parquet"
ITEMS_TRUTH = "items_truth.parquet"
CATEGORY_GRADES = "category_grades.parquet"

# funnel.imp_why codes, in order
REASONS = ("exact", "over_budget", "missing_feature", "substitute", "complement", "unrelated")

IMPRESSIONS_TRUTH_SCHEMA = pa.schema(
    [
        pa.field("request_id", pa.string()),
        pa.field("item_id", pa.string()),
        pa.field("position", pa.int32()),
        pa.field("true_grade", pa.int8()),
        pa.field("reason", pa.string()),
    ]
)
REQUESTS_TRUTH_SCHEMA = pa.schema(
    [
        pa.field("request_id", pa.string()),
        pa.field("intent_category", pa.string()),
        pa.field("price_cap", pa.float64()),  # null: no cap asked
        pa.field("required_feature", pa.string()),  # null: none asked
        pa.field("lang", pa.string()),
    ]
)
ITEMS_TRUTH_SCHEMA = pa.schema(
    [
        pa.field("item_id", pa.string()),
        pa.field("category", pa.string()),  # category key
        pa.field("features", pa.list_(pa.string())),  # feature keys
        pa.field("price", pa.float64()),
        pa.field("quality", pa.float64()),
    ]
)
CATEGORY_GRADES_SCHEMA = pa.schema(
    [
        pa.field("query_category", pa.string()),
        pa.field("item_category", pa.string()),
        pa.field("grade", pa.int8()),
    ]
)


def category_grades_frame(model: DomainModel) -> pl.DataFrame:
    """Every (query category, item category) with its grade when the modifiers are met."""
    keys = model.domain.category_keys
    cat_group, comp_group = model.cat_group, model.comp_group
    q, i = np.meshgrid(np.arange(len(keys)), np.arange(len(keys)), indexing="ij")
    q, i = q.ravel(), i.ravel()
    grade = np.select(
        [q == i, cat_group[q] == cat_group[i], comp_group[cat_group[q], cat_group[i]]],
        [3, 2, 1],
        default=0,
    )
    names = pl.Series(keys)
    return pl.DataFrame(
        {
            "query_category": names.gather(q),
            "item_category": names.gather(i),
            "grade": pl.Series(grade, dtype=pl.Int8),
        }
    )


def items_truth_frame(domain: Domain, items: ItemCatalog) -> pl.DataFrame:
    keys = [f.key for f in domain.features]
    features = [[k for b, k in enumerate(keys) if bits >> b & 1] for bits in items.features]
    return pl.DataFrame(
        {
            "item_id": items.ids,
            "category": pl.Series(domain.category_keys).gather(items.category),
            "features": pl.Series(features, dtype=pl.List(pl.String)),
            "price": items.price.astype(np.float64),
            "quality": items.quality.astype(np.float64),
        }
    )


def requests_truth_frame(domain: Domain, logs: BlockLogs, ids: pl.Series) -> pl.DataFrame:
    categories = dict(enumerate(domain.category_keys))
    features = {i: f.key for i, f in enumerate(domain.features)}
    frame = pl.DataFrame(
        {
            "request_id": ids,
            "cat": logs.req_cat,
            "cap": logs.req_cap,
            "feat": logs.req_feature,
            "zh": logs.req_zh,
        }
    )
    return frame.select(
        "request_id",
        pl.col("cat").replace_strict(categories, return_dtype=pl.String).alias("intent_category"),
        pl.when(pl.col("cap") >= 0).then(pl.col("cap").cast(pl.Float64)).alias("price_cap"),
        pl.col("feat")
        .replace_strict(features, default=None, return_dtype=pl.String)
        .alias("required_feature"),
        pl.when(pl.col("zh")).then(pl.lit("zh")).otherwise(pl.lit("en")).alias("lang"),
    )


def impressions_truth_frame(logs: BlockLogs, ids: pl.Series, items: ItemCatalog) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "request_id": ids.gather(logs.imp_req),
            "item_id": items.ids.gather(logs.imp_item),
            "position": pl.Series(logs.imp_pos, dtype=pl.Int32),
            "true_grade": pl.Series(logs.imp_rel, dtype=pl.Int8),
            "reason": pl.Series(REASONS).gather(logs.imp_why.astype(np.int64)),
        }
    )


def read_truth(truth_dir: Path, name: str) -> pl.DataFrame:
    path = Path(truth_dir) / name
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found: {truth_dir} holds no generator truth (regenerate the drop)"
        )
    return pl.read_parquet(path)


def grade_pairs(truth_dir: Path, pairs: pl.DataFrame) -> pl.DataFrame:
    """`pairs` (request_id, item_id, ...) + `true_grade` (int8; null where the request or the
    item is unknown to the truth files), by the simulator's rule."""
    requests = read_truth(truth_dir, REQUESTS_TRUTH)
    items = read_truth(truth_dir, ITEMS_TRUTH).rename({"category": "item_category"})
    grades = read_truth(truth_dir, CATEGORY_GRADES)
    joined = (
        pairs.with_row_index("_order")
        .join(requests, on="request_id", how="left")
        .join(
            items.select("item_id", "item_category", "features", "price"), on="item_id", how="left"
        )
        .join(
            grades,
            left_on=["intent_category", "item_category"],
            right_on=["query_category", "item_category"],
            how="left",
        )
    )
    modifiers_met = (pl.col("price_cap").is_null() | (pl.col("price") <= pl.col("price_cap"))) & (
        pl.col("required_feature").is_null()
        | pl.col("features").list.contains(pl.col("required_feature"))
    )
    true_grade = (
        pl.when((pl.col("grade") == 3) & ~modifiers_met)
        .then(pl.lit(2, dtype=pl.Int8))
        .otherwise(pl.col("grade"))
        .cast(pl.Int8)
    )
    return (
        joined.with_columns(true_grade.alias("true_grade"))
        .sort("_order")
        .select(*pairs.columns, "true_grade")
    )
