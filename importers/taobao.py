"""Taobao UserBehavior (Alibaba, Tianchi): `UserBehavior.csv`, no header, one behaviour per line:
user_id, item_id, category_id, behavior_type (pv | cart | fav | buy), unix timestamp (UTC).

A user's behaviours less than 30 minutes apart form one request (there is no search log, so no
query). Behaviour types keep their source names; `domain.toml` maps them: pv -> click,
cart -> add_to_cart, fav -> favorite, buy -> order. Items have a category id only: no title, no
price. Nothing was logged about what was shown and ignored, so there are no impressions.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from importers.common import (
    SAMPLED_NEGATIVES,
    ImportFailed,
    ImportResult,
    drop_duplicate_events,
    requests_of,
    sessionize,
    write_drop,
)
from schemas.domain import DomainSettings, EventMapping, SourceSpec, Wording

FORMAT = "taobao_userbehavior"
COLUMNS = ["user_id", "item_id", "category_id", "behavior_type", "timestamp"]
EVENT_MAP = {"pv": "click", "cart": "add_to_cart", "fav": "favorite", "buy": "order"}


def _source_file(src: Path) -> Path:
    if src.is_file():
        return src
    found = sorted(src.glob("UserBehavior*.csv")) if src.is_dir() else []
    if not found:
        raise ImportFailed(f"{src}: no UserBehavior*.csv (the Taobao UserBehavior file)")
    return found[0]


def import_taobao_userbehavior(src: Path, out_root: Path, domain: str) -> ImportResult:
    path = _source_file(Path(src))
    try:
        raw = pl.read_csv(
            path,
            has_header=False,
            new_columns=COLUMNS,
            schema_overrides={c: pl.String for c in COLUMNS[:4]} | {"timestamp": pl.Int64},
        )
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise ImportFailed(f"{path}: not a UserBehavior CSV ({exc})") from exc
    if raw.width != len(COLUMNS):
        raise ImportFailed(f"{path}: expected {len(COLUMNS)} columns, found {raw.width}")
    notes: list[str] = []
    events = raw.with_columns(
        pl.from_epoch("timestamp", time_unit="s").alias("ts"),
        pl.col("behavior_type").alias("event_type"),
    )
    events = drop_duplicate_events(
        sessionize(events).select("request_id", "user_id", "item_id", "ts", "event_type"), notes
    )
    items = (
        raw.group_by("item_id", maintain_order=True)
        .agg(pl.col("category_id").first())
        .select("item_id", ("category " + pl.col("category_id")).alias("category"))
        .sort("item_id")
    )
    users = raw.select("user_id").unique().sort("user_id")
    settings = DomainSettings(
        negatives=SAMPLED_NEGATIVES,
        time_zone="Asia/Shanghai",
        currency="CNY",
        languages=["zh"],
        source=SourceSpec(format=FORMAT, description=f"Taobao UserBehavior: {path.name}"),
        wording=Wording(platform="an online shopping marketplace", service="online shopping"),
        events=EventMapping(map=EVENT_MAP),
    )
    notes.append("items: category ids only (no title, no price); requests: no query")
    tables = {"items": items, "users": users, "requests": requests_of(events), "events": events}
    return write_drop(out_root, domain, FORMAT, tables, settings, notes)
