"""A small warehouse built in code: one domain's items and requests, a logged agent turn, and rows
of `llm_generated_turns` as the response generator writes them (vocabulary instructions)."""

from __future__ import annotations

from datetime import datetime

import polars as pl

from assets.llm.generate import (
    GENERATED_SCHEMA,
    TEMPLATE,
    agent_instruction,
    query_lang,
    write_generated_turns,
)
from core.warehouse import Warehouse

DOMAIN = "food"
MODEL = "gen-model-1"
ITEMS = [
    ("i1", "Beef Noodles", "noodles", 12.0, 4.5),
    ("i2", "Pork Buns", "buns", 8.0, 4.1),
    ("i3", "Rice Bowl", "rice", 15.0, 3.9),
    ("i4", "Dumpling House", "dumplings", 20.0, 4.7),
]
QUERIES = {"r1": "noodles near me", "r2": "cheap lunch", "r3": "附近的面馆"}
# r2: compliant and consistent. r3: four items (breaks "at most 3") and a wrong price (12 -> 13).
# g1: a stale generation for r1, which has a logged turn: it must be left out.
RESPONSES = {
    "g1": "Here are some options for you:\n1. 【Beef Noodles】12 yuan.",
    "g2": "Here are some options for you:\n1. 【Beef Noodles】12 yuan.\n"
    "2. 【Pork Buns】8 yuan.\nHope this helps!",
    "g3": "为您找到以下推荐：\n1. 【Beef Noodles】价格13元。\n2. 【Pork Buns】价格8元。\n"
    "3. 【Rice Bowl】价格15元。\n4. 【Dumpling House】价格20元。\n希望对您有帮助！",
}
GENERATED_FOR = {"g1": "r1", "g2": "r2", "g3": "r3"}
RETRIEVED = ["i1", "i2", "i3", "i4"]


def generated_rows() -> pl.DataFrame:
    rows = []
    for turn_id, request_id in GENERATED_FOR.items():
        instruction, constraints = agent_instruction(
            DOMAIN, request_id, query_lang(QUERIES[request_id])
        )
        rows.append(
            {
                "domain": DOMAIN,
                "turn_id": turn_id,
                "request_id": request_id,
                "user_id_hash": f"u-{request_id}",
                "instruction": instruction,
                "query": QUERIES[request_id],
                "response": RESPONSES[turn_id],
                "retrieved_item_ids": RETRIEVED,
                "constraints": constraints,
                "model": MODEL,
                "latency_ms": None,
                "template_id": f"{TEMPLATE}.v1",
                "template_hash": "h",
            }
        )
    return pl.from_arrow(pl.DataFrame(rows).to_arrow().cast(GENERATED_SCHEMA))


def build_warehouse(path, with_generated: bool = True) -> Warehouse:
    wh = Warehouse(path)
    d = pl.lit(DOMAIN).alias("domain")
    items = pl.DataFrame(
        ITEMS, schema=["item_id", "title", "category", "price", "rating"], orient="row"
    )
    wh.write_partition("raw_items", DOMAIN, items.with_columns(d, attributes=pl.lit("{}")))
    requests = pl.DataFrame(
        {
            "request_id": list(QUERIES),
            "user_id_hash": [f"u-{r}" for r in QUERIES],
            "query": list(QUERIES.values()),
            "ts": [datetime(2026, 1, k) for k in range(1, len(QUERIES) + 1)],
            "lat": [None] * len(QUERIES),
            "lon": [None] * len(QUERIES),
        },
        schema_overrides={"lat": pl.Float64, "lon": pl.Float64},
    )
    wh.write_partition("raw_requests", DOMAIN, requests.with_columns(d))
    logged = pl.DataFrame(
        {
            "turn_id": ["t1"],
            "request_id": ["r1"],
            "instruction": ["Follow these rules:\n1. Recommend at most 2 items."],
            "response": ["Here are some options for you:\n1. 【Beef Noodles】12 yuan."],
            "retrieved_item_ids": [["i1", "i2"]],
            "constraints": [None],
            "source_row": [0],
        },
        schema_overrides={"constraints": pl.String, "source_row": pl.Int64},
    )
    wh.write_partition("raw_agent_turns", DOMAIN, logged.with_columns(d))
    if with_generated:
        write_generated_turns(wh, DOMAIN, generated_rows())
    return wh
