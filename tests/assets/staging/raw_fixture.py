"""A small raw warehouse built in code: two domains (zh and en) of items, users, requests,
impressions, events and annotations, in the exact `raw_*` layout ingest writes.

Shared by the staging and dimension tests (loaded by path from their conftest files).
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa

from core.warehouse import Warehouse
from schemas.logs import CONTRACT_TABLES

DOMAINS = {
    "food_delivery": {
        "categories": {
            "火锅": ["麻辣火锅", "牛油火锅套餐", "鸳鸯锅"],
            "烤鸭": ["北京烤鸭", "果木烤鸭半只", "烤鸭卷饼"],
            "奶茶": ["珍珠奶茶", "芝士奶盖茶", "杨枝甘露"],
            "披萨": ["榴莲披萨", "意式肉酱披萨", "芝士披萨"],
        },
        "queries": ["麻辣火锅", "北京烤鸭", "奶茶 少糖", "芝士披萨", "附近 好吃的"],
    },
    "hotel": {
        "categories": {
            "business hotel": ["Downtown Business Hotel", "Airport Business Inn", "City Suites"],
            "hostel": ["Backpacker Hostel", "Harbor Youth Hostel", "Budget Dorm Beds"],
            "resort": ["Seaside Spa Resort", "Mountain Resort Lodge", "Lake Resort Villas"],
        },
        "queries": ["business hotel downtown", "cheap hostel", "spa resort", "hotel near airport"],
    },
}
START = datetime(2026, 3, 1, 8, 0, 0)


def _rows_to_table(table: str, domain: str, rows: list[dict]) -> pa.Table:
    schema = CONTRACT_TABLES[table].warehouse_schema()
    out = []
    for i, r in enumerate(rows):
        full = {f.name: r.get(f.name) for f in schema}
        full["domain"] = domain
        full["extra"] = []
        full["source_file"] = f"{domain}/{table}.parquet"
        full["source_row"] = i + 1
        out.append(full)
    return pa.Table.from_pylist(out, schema=schema)


def make_raw(seed: int = 3) -> dict[str, dict[str, list[dict]]]:
    """Rows per domain and table (no bookkeeping columns)."""
    rng = random.Random(seed)
    data: dict[str, dict[str, list[dict]]] = {}
    for domain, spec in DOMAINS.items():
        items = []
        for cat, titles in spec["categories"].items():
            for t in titles:
                items.append(
                    {
                        "item_id": f"{domain[:2]}-{len(items):03d}",
                        "title": t,
                        "category": cat,
                        "price": round(rng.uniform(10, 300), 2),
                        "rating": round(rng.uniform(3, 5), 1),
                        "description": f"{t} {cat}",
                        "tags": [cat, t.split()[0]],
                        "attributes": json.dumps({"open": True}),
                    }
                )
        users = [
            {
                "user_id_hash": f"{domain[:2]}u{u:02d}",
                "city": "Shanghai",
                "age_band": "25-34",
                "gender": "f" if u % 2 else "m",
                "member_level": str(u % 3),
                "preferences": json.dumps({"spicy": u % 2 == 0}),
            }
            for u in range(8)
        ]
        requests, impressions, events = [], [], []
        for r in range(40):
            user = users[r % 8]["user_id_hash"]
            ts = START + timedelta(hours=6 * r + rng.randint(0, 3))
            rid = f"{domain[:2]}r{r:03d}"
            requests.append(
                {
                    "request_id": rid,
                    "user_id_hash": user,
                    "ts": ts,
                    "query": rng.choice(spec["queries"]),
                    "city": "Shanghai",
                    "lat": 31.2,
                    "lon": 121.4,
                    "scene": "search",
                    "channel": "app",
                }
            )
            shown = rng.sample(items, rng.randint(1, 6))
            for pos, it in enumerate(shown):
                impressions.append(
                    {"request_id": rid, "item_id": it["item_id"], "position": pos, "ts": ts}
                )
                roll = rng.random()
                if roll < 0.4:
                    events.append(
                        {
                            "request_id": rid,
                            "user_id_hash": user,
                            "item_id": it["item_id"],
                            "ts": ts + timedelta(minutes=2 + pos),
                            "event_type": "click",
                        }
                    )
                if roll < 0.15:
                    events.append(
                        {
                            "request_id": rid,
                            "user_id_hash": user,
                            "item_id": it["item_id"],
                            "ts": ts + timedelta(minutes=9),
                            "event_type": "order",
                            "amount": it["price"],
                        }
                    )
                elif 0.4 <= roll < 0.45:
                    events.append(
                        {
                            "request_id": rid,
                            "user_id_hash": user,
                            "item_id": it["item_id"],
                            "ts": ts + timedelta(minutes=5),
                            "event_type": "add_to_cart",
                        }
                    )
        # An event at exactly a later request's time (same user): must not be in its history.
        later = requests[16]
        events.append(
            {
                "request_id": requests[8]["request_id"],
                "user_id_hash": later["user_id_hash"],
                "item_id": items[0]["item_id"],
                "ts": later["ts"],
                "event_type": "click",
            }
        )
        annotations = [
            {
                "query": spec["queries"][0],
                "item_id": items[0]["item_id"],
                "label": 3,
                "annotator": "expert1",
            },
            {
                "query": spec["queries"][0],
                "item_id": items[0]["item_id"],
                "label": 3,
                "annotator": "expert2",
            },
            {
                "query": spec["queries"][0],
                "item_id": items[-1]["item_id"],
                "label": 0,
                "annotator": "expert1",
            },
        ]
        data[domain] = {
            "items": items,
            "users": users,
            "requests": requests,
            "impressions": impressions,
            "events": events,
            "annotations": annotations,
        }
    return data


def build_raw_warehouse(path: Path, seed: int = 3, skip: tuple[str, ...] = ()) -> Warehouse:
    wh = Warehouse(path)
    for domain, tables in make_raw(seed).items():
        for table, rows in tables.items():
            if table in skip:
                continue
            contract = CONTRACT_TABLES[table]
            wh.write_partition(
                contract.warehouse_table,
                domain,
                _rows_to_table(table, domain, rows),
                schema=contract.warehouse_schema(),
            )
    return wh


def stage_domain(wh: Warehouse, domain: str, k: int = 5) -> dict[str, int]:
    """The domain's three staging tables, written by the staging steps themselves (their `run`,
    without Dagster); returns rows per table."""
    import logging

    from assets.staging.assets import STAGING_STEPS, HistoryConfig
    from assets.steps.contract import BuildContext
    from core.settings import Settings

    ctx = BuildContext(Settings(), logging.getLogger("recrm.steps"), config=HistoryConfig(k=k))
    return {step.writes.name: step.run(ctx, wh, domain).rows for step in STAGING_STEPS}


def build_staged_warehouse(path: Path, seed: int = 3, k: int = 5) -> Warehouse:
    """The raw warehouse with every domain's staging tables built."""
    wh = build_raw_warehouse(path, seed)
    for domain in DOMAINS:
        stage_domain(wh, domain, k)
    return wh
