"""Yelp academic dataset: `yelp_academic_dataset_business.json` (points of interest) with the
users' tips (`..._tip.json`) and, when present, reviews (`..._review.json`), JSON Lines.

Items are businesses: name, categories (the first is the category, all are tags), stars, review
count, city, neighbourhood, coordinates, opening hours and attributes as JSON. The price range
(1-4) is a level, not a price, so it stays in the attributes and `price` is empty. A tip or a
review is an interaction of a user with a business on a day; a user's interactions of one local
day form one request (no query; the time of day is not in the source, so requests sit at local
midnight). Event types keep their source names, mapped in `domain.toml`: a review says the user
went there (order), a tip that they engaged with it (click). Tip likes and review stars are
signals. Check-ins carry no user and are not imported.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from importers.common import (
    SAMPLED_NEGATIVES,
    ImportFailed,
    ImportResult,
    drop_duplicate_events,
    require_file,
    write_drop,
)
from schemas.domain import DomainSettings, EventMapping, Signal, SourceSpec, Wording

FORMAT = "yelp"
PREFIX = "yelp_academic_dataset_"
EVENT_MAP = {"review": "order", "tip": "click"}


def _read(con: duckdb.DuckDBPyConnection, path: Path, sql: str) -> pl.DataFrame:
    try:
        return con.sql(sql, params={"p": str(path)}).pl()
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0]
        raise ImportFailed(f"{path}: not a Yelp JSON Lines file ({first})") from exc


def _businesses(con, path: Path) -> pl.DataFrame:
    return _read(
        con,
        path,
        """
        SELECT business_id AS item_id, name AS title,
               CASE WHEN json_type(categories) = 'ARRAY'
                    THEN CAST(categories AS VARCHAR[])
                    ELSE list_transform(string_split(categories ->> '$', ','), lambda c: trim(c))
               END AS tags,
               TRY_CAST(stars AS DOUBLE) AS rating,
               TRY_CAST(review_count AS BIGINT) AS review_count,
               city,
               CASE WHEN json_type(neighborhoods) = 'ARRAY'
                    THEN CAST(neighborhoods AS VARCHAR[])[1] END AS district,
               TRY_CAST(latitude AS DOUBLE) AS lat, TRY_CAST(longitude AS DOUBLE) AS lon,
               CASE WHEN hours IS NOT NULL AND json_type(hours) = 'OBJECT'
                    AND hours::VARCHAR <> '{}' THEN hours::VARCHAR END AS opening_hours,
               CASE WHEN json_type(attributes) = 'OBJECT' THEN attributes::VARCHAR END
                   AS attributes
        FROM read_json($p, format = 'newline_delimited', columns = {
            business_id: 'VARCHAR', name: 'VARCHAR', categories: 'JSON', stars: 'VARCHAR',
            review_count: 'VARCHAR', city: 'VARCHAR', neighborhoods: 'JSON',
            latitude: 'VARCHAR', longitude: 'VARCHAR', hours: 'JSON', attributes: 'JSON'})
        WHERE business_id IS NOT NULL
        """,
    ).with_columns(pl.col("tags").list.first().alias("category"))


def _interactions(con, path: Path, kind: str) -> pl.DataFrame:
    signal = "likes" if kind == "tip" else "stars"
    return _read(
        con,
        path,
        f"""
        SELECT user_id, business_id AS item_id, TRY_CAST(date AS TIMESTAMP) AS day,
               '{kind}' AS event_type, CAST({signal} AS VARCHAR) AS {signal}
        FROM read_json($p, format = 'newline_delimited', columns = {{
            user_id: 'VARCHAR', business_id: 'VARCHAR', date: 'VARCHAR', {signal}: 'VARCHAR'}})
        WHERE user_id IS NOT NULL AND business_id IS NOT NULL
        """,
    )


def import_yelp(
    src: Path, out_root: Path, domain: str, time_zone: str = "America/New_York"
) -> ImportResult:
    src = Path(src)
    business = require_file(src / f"{PREFIX}business.json", "Yelp businesses")
    parts = [(src / f"{PREFIX}{k}.json", k) for k in ("tip", "review")]
    parts = [(p, k) for p, k in parts if p.is_file()]
    if not parts:
        raise ImportFailed(f"{src}: neither {PREFIX}tip.json nor {PREFIX}review.json")
    notes: list[str] = []
    con = duckdb.connect()
    try:
        items = _businesses(con, business)
        events = pl.concat([_interactions(con, p, k) for p, k in parts], how="diagonal")
    finally:
        con.close()
    unknown = events.join(items.select("item_id"), on="item_id", how="anti").height
    if unknown:
        notes.append(f"events: {unknown:,} interactions with businesses not in the file left out")
        events = events.join(items.select("item_id"), on="item_id", how="semi")
    undated = events.filter(pl.col("day").is_null()).height
    if undated:
        notes.append(f"events: {undated:,} interactions without a date left out")
        events = events.filter(pl.col("day").is_not_null())
    # The local day at midnight, stored as naive UTC like every contract timestamp.
    ts = pl.col("day").dt.replace_time_zone(time_zone).dt.convert_time_zone("UTC")
    events = events.with_columns(
        ts.dt.replace_time_zone(None).alias("ts"),
        (pl.col("user_id") + "-" + pl.col("day").dt.strftime("%Y%m%d")).alias("request_id"),
    ).drop("day")
    events = drop_duplicate_events(events.sort("request_id", "ts", "item_id"), notes)
    requests = (
        events.group_by("request_id").agg(pl.col("user_id").first(), pl.col("ts").min())
    ).sort("request_id")
    front = ["request_id", "user_id", "item_id", "ts", "event_type"]
    events = events.select(front + [c for c in events.columns if c not in front])
    signals = [Signal(table="events", column="likes", kind="likes")] if "likes" in events else []
    if "stars" in events.columns:
        signals.append(Signal(table="events", column="stars", kind="rating"))
    settings = DomainSettings(
        negatives=SAMPLED_NEGATIVES,
        time_zone=time_zone,
        currency="USD",
        languages=["en"],
        source=SourceSpec(
            format=FORMAT,
            description="Yelp academic dataset: businesses, " + ", ".join(k for _, k in parts),
        ),
        wording=Wording(platform="a local business review platform", service="local businesses"),
        events=EventMapping(map={k: v for k, v in EVENT_MAP.items() if k in {k for _, k in parts}}),
        signals=signals,
    )
    notes.append(
        "items: price range (1-4) kept in attributes, no price; requests: no query, day only"
    )
    users = events.select("user_id").unique().sort("user_id")
    tables = {"items": items.select(
        "item_id", "title", "category", "tags", "rating", "review_count", "city", "district",
        "lat", "lon", "opening_hours", "attributes"), "users": users, "requests": requests,
        "events": events}  # fmt: skip
    return write_drop(out_root, domain, FORMAT, tables, settings, notes)
