"""Instacart Online Grocery Basket Analysis: `orders.csv` (order_id, user_id, eval_set,
order_number, order_dow, order_hour_of_day, days_since_prior_order), `order_products__prior.csv`
and `order_products__train.csv` (order_id, product_id, add_to_cart_order, reordered),
`products.csv` (product_id, product_name, aisle_id, department_id), `aisles.csv`,
`departments.csv`.

An order is a request (no query), each product in it an `order` event with its `reordered` flag
(a signal) and basket position as extra columns. Products are items: the aisle is the category,
aisle and department are tags; there are no prices. Instacart publishes no dates, only each
order's weekday, hour and days since the user's previous order: times are rebuilt from those,
the user's first order placed on the first date from 2017-01-01 that falls on its weekday, so
times of day, weekdays and gaps are the source's and the calendar dates are not (the domain's
source description says so). Orders without products (the `test` set) are left out.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl

from importers.common import (
    SAMPLED_NEGATIVES,
    ImportFailed,
    ImportResult,
    read_text_csv,
    require_columns,
    require_file,
    write_drop,
)
from schemas.domain import DomainSettings, Signal, SourceSpec, Wording

FORMAT = "instacart"
ANCHOR = datetime(2017, 1, 1)  # a Sunday: Instacart's order_dow 0
BASKETS = ("order_products__prior.csv", "order_products__train.csv")


def import_instacart(
    src: Path, out_root: Path, domain: str, time_zone: str = "America/New_York"
) -> ImportResult:
    src = Path(src)
    orders_path = require_file(src / "orders.csv", "Instacart orders")
    orders = require_columns(
        read_text_csv(orders_path),
        orders_path,
        ("order_id", "user_id", "order_number", "order_dow", "order_hour_of_day"),
    )
    baskets = [src / b for b in BASKETS if (src / b).is_file()]
    if not baskets:
        raise ImportFailed(f"{src}: no {' or '.join(BASKETS)}")
    lines = pl.concat(
        [require_columns(read_text_csv(p), p, ("order_id", "product_id")) for p in baskets],
        how="diagonal",
    )
    products_path = require_file(src / "products.csv", "Instacart products")
    products = require_columns(
        read_text_csv(products_path), products_path, ("product_id", "product_name")
    )
    notes: list[str] = []
    # Rebuilt times: cumulative days since the user's first order, which sits on the first
    # anchor-week day of its weekday; hours are the source's (local time).
    orders = orders.with_columns(
        pl.col("order_number").cast(pl.Int64),
        pl.col("order_dow").cast(pl.Int64),
        pl.col("order_hour_of_day").cast(pl.Int64),
        pl.col("days_since_prior_order").cast(pl.Float64, strict=False).fill_null(0),
    ).sort("user_id", "order_number")
    days = pl.col("days_since_prior_order").cum_sum().over("user_id") - pl.col(
        "days_since_prior_order"
    ).first().over("user_id")
    first_dow = pl.col("order_dow").first().over("user_id")
    local = (
        pl.lit(ANCHOR)
        + pl.duration(days=first_dow)
        + pl.duration(days=days.cast(pl.Int64))
        + pl.duration(hours=pl.col("order_hour_of_day"))
    )
    orders = orders.with_columns(
        local.dt.replace_time_zone(time_zone, ambiguous="earliest", non_existent="null")
        .dt.convert_time_zone("UTC")
        .dt.replace_time_zone(None)
        .alias("ts")
    )
    gap = orders.filter(pl.col("ts").is_null()).height
    if gap:  # an hour skipped by a daylight-saving change: one hour later
        orders = orders.with_columns(
            pl.when(pl.col("ts").is_null())
            .then(
                (local + pl.duration(hours=1))
                .dt.replace_time_zone(time_zone, ambiguous="earliest")
                .dt.convert_time_zone("UTC")
                .dt.replace_time_zone(None)
            )
            .otherwise(pl.col("ts"))
            .alias("ts")
        )
    with_products = orders.join(lines.select("order_id").unique(), on="order_id", how="semi")
    if with_products.height < orders.height:
        notes.append(f"{orders.height - with_products.height:,} orders without products left out")
    requests = with_products.select(pl.col("order_id").alias("request_id"), "user_id", "ts").sort(
        "request_id"
    )
    extra = [c for c in ("add_to_cart_order", "reordered") if c in lines.columns]
    events = (
        lines.join(with_products.select("order_id", "user_id", "ts"), on="order_id", how="inner")
        .select(
            pl.col("order_id").alias("request_id"),
            "user_id",
            pl.col("product_id").alias("item_id"),
            "ts",
            pl.lit("order").alias("event_type"),
            *extra,
        )
        .unique(["request_id", "item_id"], keep="first", maintain_order=True)
        .sort("request_id", "item_id")
    )
    orphans = lines.join(orders.select("order_id"), on="order_id", how="anti").height
    if orphans:
        notes.append(f"{orphans:,} basket lines of orders not in orders.csv left out")
    items = products.rename({"product_id": "item_id", "product_name": "title"})
    tags = []
    for table, key, name in (("aisles", "aisle_id", "aisle"), ("departments", "department_id", "department")):  # fmt: skip
        path = src / f"{table}.csv"
        if key in items.columns and path.is_file():
            items = items.join(
                require_columns(read_text_csv(path), path, (key, name)), on=key, how="left"
            )
            tags.append(name)
    items = items.with_columns(
        (pl.col("aisle") if "aisle" in tags else pl.lit(None, pl.String)).alias("category"),
        pl.concat_list([pl.col(t) for t in tags]).list.drop_nulls().alias("tags")
        if tags
        else pl.lit(None, pl.List(pl.String)).alias("tags"),
    ).drop([c for c in ("aisle", "department") if c in items.columns])
    unknown = events.join(items.select("item_id"), on="item_id", how="anti").height
    if unknown:
        notes.append(f"{unknown:,} basket lines of products not in products.csv left out")
        events = events.join(items.select("item_id"), on="item_id", how="semi")
    users = requests.select("user_id").unique().sort("user_id")
    settings = DomainSettings(
        negatives=SAMPLED_NEGATIVES,
        time_zone=time_zone,
        currency="USD",
        languages=["en"],
        source=SourceSpec(
            format=FORMAT,
            description=(
                "Instacart orders; dates rebuilt from weekday, hour and days since the prior "
                f"order, first orders from {ANCHOR:%Y-%m-%d} (calendar dates are not the source's)"
            ),
        ),
        wording=Wording(platform="an online grocery delivery app", service="grocery delivery"),
        # A reorder is the strongest engagement (level 2), a first purchase level 1: the
        # orders-only baskets give graded labels, not one class (schemas/domain.py Signal).
        signals=[Signal(table="events", column="reordered", kind="reorder", level=2, otherwise=1)]
        if "reordered" in extra
        else [],
    )
    notes.append("items: no price; requests: no query; no impressions (baskets only)")
    tables = {
        "items": items.sort("item_id"),
        "users": users,
        "requests": requests,
        "events": events,
    }
    return write_drop(out_root, domain, FORMAT, tables, settings, notes)
