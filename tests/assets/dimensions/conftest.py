"""Fixtures of the agent-transcript dimensions (instruction_following, factual_consistency): a
small bilingual catalog, requests with and without positions, and agent turns generated from them
with known ground truth (loggen.agent_turns). Session-scoped and built only when a test asks."""

import json
import random
from datetime import datetime

import polars as pl
import pytest

from assets.dimensions.factual_consistency.evidence import build_evidence
from loggen.agent_turns import AgentErrorRates, make_agent_turns

CATEGORIES = {
    "zh": ["火锅", "烧烤", "川菜", "日料"],
    "en": ["Hot pot", "BBQ", "Sichuan", "Japanese"],
}
DISHES = ["毛肚", "羊肉串", "水煮鱼", "寿司", "hot and sour soup", "Fried rice", "Ramen"]
AMENITIES = ["WiFi", "停车场", "Pool", "24h hot water", "早餐"]


def make_catalog(n_items: int = 48, n_requests: int = 1500, seed: int = 3):
    """(requests, retrieved, items) frames in the shapes make_agent_turns takes."""
    rng = random.Random(seed)
    rows = []
    for i in range(n_items):
        lang = "zh" if i % 2 == 0 else "en"
        title = f"老王{i}号店(长宁店)" if lang == "zh" else f"Golden Dragon {i} (Xuhui)"
        if i % 3:
            attrs = {"dishes": rng.sample(DISHES, 3), "features": ["late_night"]}
        else:
            attrs = {"amenities": rng.sample(AMENITIES, 2), "star_level": 3}
        attrs.update({"title_zh": title, "lang": lang})
        rows.append(
            {
                "item_id": f"it{i:04d}",
                "title": title,
                "category": CATEGORIES[lang][i % 4],
                "price": round(rng.uniform(8, 300), rng.choice([0, 1, 2])),
                "rating": round(rng.uniform(2.5, 5), 1) if i % 7 else None,
                "lat": 31.2 + rng.uniform(-0.05, 0.05) if i % 11 else None,
                "lon": 121.4 + rng.uniform(-0.05, 0.05) if i % 11 else None,
                "opening_hours": rng.choice(
                    ["10:00-22:00", "09:30-14:00,17:00-21:30", "24小时", None]
                ),
                "attributes": json.dumps(attrs, ensure_ascii=False),
            }
        )
    # Two branches sharing a title: a text response could not tell them apart.
    rows[-1]["title"] = rows[-3]["title"]
    items = pl.DataFrame(rows)
    n = n_requests
    requests = pl.DataFrame(
        {
            "request_id": [f"r{j:05d}" for j in range(n)],
            "user_id": [f"u{j % 60}" for j in range(n)],
            "ts": [datetime(2026, 1, 1 + j % 20, j % 24) for j in range(n)],
            "query": ["附近好吃的" if j % 2 else "something good nearby" for j in range(n)],
            "lang": ["zh" if j % 2 else "en" for j in range(n)],
            "lat": [31.2 + rng.uniform(-0.03, 0.03) if j % 5 else None for j in range(n)],
            "lon": [121.4 + rng.uniform(-0.03, 0.03) if j % 5 else None for j in range(n)],
        }
    )
    retrieved = pl.DataFrame(
        {
            "request_id": requests["request_id"],
            "item_ids": [
                [f"it{k:04d}" for k in rng.sample(range(n_items), rng.randint(3, 10))]
                for _ in range(n)
            ],
        }
    )
    return requests, retrieved, items


@pytest.fixture(scope="session")
def catalog():
    return make_catalog()


@pytest.fixture(scope="session")
def generated(catalog):
    """Generated turns joined to request position, truth and evidence (list[ITEM])."""
    requests, retrieved, items = catalog
    turns, truth = make_agent_turns(
        requests, retrieved, items, "food_delivery", 11, AgentErrorRates()
    )
    frame = turns.join(
        requests.select("request_id", "user_id", "query", "ts", "lat", "lon"),
        on="request_id",
        how="left",
        maintain_order="left",
    ).join(truth, on="turn_id", maintain_order="left")
    return frame.with_columns(build_evidence(frame, items))
