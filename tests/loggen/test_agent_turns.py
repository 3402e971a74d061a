"""The agent-transcript generator: contract columns, truth, rates, determinism, speed."""

import json
import random
from datetime import datetime

import polars as pl
import pytest

from loggen.agent_turns import TRUTH_SCHEMA, TURN_SCHEMA, AgentErrorRates, make_agent_turns
from schemas.constraints import HARD_TYPES, constraints_from_json
from schemas.logs import AGENT_TURNS


def _inputs(n_requests=2000, n_items=40, seed=5):
    rng = random.Random(seed)
    items = pl.DataFrame(
        {
            "item_id": [f"i{k}" for k in range(n_items)],
            "title": [f"店铺{k}号" if k % 2 else f"Shop {k}" for k in range(n_items)],
            "category": [["火锅", "Noodles", "烧烤"][k % 3] for k in range(n_items)],
            "price": [round(rng.uniform(5, 200), 1) for _ in range(n_items)],
            "rating": [round(rng.uniform(3, 5), 1) for _ in range(n_items)],
            "lat": [31.2 + rng.uniform(-0.05, 0.05) for _ in range(n_items)],
            "lon": [121.4 + rng.uniform(-0.05, 0.05) for _ in range(n_items)],
            "opening_hours": ["10:00-22:00"] * n_items,
            "attributes": [
                json.dumps({"dishes": [f"菜{k}", f"dish {k + 1}"]}) for k in range(n_items)
            ],
        }
    )
    requests = pl.DataFrame(
        {
            "request_id": [f"r{j}" for j in range(n_requests)],
            "user_id": [f"u{j % 30}" for j in range(n_requests)],
            "ts": [datetime(2026, 2, 1)] * n_requests,
            "query": ["q"] * n_requests,
            "lang": ["zh" if j % 3 else "en" for j in range(n_requests)],
            "lat": [31.2 if j % 4 else None for j in range(n_requests)],
            "lon": [121.4 if j % 4 else None for j in range(n_requests)],
        }
    )
    retrieved = pl.DataFrame(
        {
            "request_id": requests["request_id"],
            "item_ids": [
                [f"i{k}" for k in rng.sample(range(n_items), rng.randint(3, 10))]
                for _ in range(n_requests)
            ],
        }
    )
    return requests, retrieved, items


@pytest.fixture(scope="module")
def inputs():
    return _inputs()


def test_contract_columns_and_truth(inputs):
    turns, truth = make_agent_turns(*inputs, "food_delivery", 1, AgentErrorRates())
    assert dict(turns.schema) == TURN_SCHEMA and dict(truth.schema) == TRUTH_SCHEMA
    assert set(AGENT_TURNS.columns) == set(turns.columns)
    assert turns["turn_id"].n_unique() == turns.height == truth.height
    assert turns["turn_id"].to_list() == truth["turn_id"].to_list()
    assert turns["retrieved_item_ids"].to_list() == inputs[1]["item_ids"].to_list()
    for text in turns["constraints"].to_list()[:300]:
        assert any(c.hard for c in constraints_from_json(text))
    kinds = set(truth["violated_constraints"].explode().drop_nulls())
    assert kinds == set(HARD_TYPES)
    fields = set(truth["misstated"].explode().struct.field("field").drop_nulls())
    assert {"name", "price", "rating", "distance", "opening_hours", "category", "dishes"} <= fields
    zh = turns.join(inputs[0], on="request_id").filter(pl.col("lang") == "zh")
    assert zh["instruction"].str.contains("请遵守以下规则").all()


def test_rates_are_honoured(inputs):
    _, truth = make_agent_turns(*inputs, "food_delivery", 2, AgentErrorRates(0.25, 0.2))
    assert abs((truth["violated_constraints"].list.len() > 0).mean() - 0.25) < 0.035
    assert abs((truth["misstated"].list.len() > 0).mean() - 0.20) < 0.035
    _, none = make_agent_turns(*inputs, "food_delivery", 2, AgentErrorRates(0.0, 0.0))
    assert (
        none["violated_constraints"].list.len().sum() == 0
        and none["misstated"].list.len().sum() == 0
    )
    _, every = make_agent_turns(*inputs, "food_delivery", 2, AgentErrorRates(1.0, 1.0))
    assert (every["violated_constraints"].list.len() > 0).all()
    assert (every["misstated"].list.len() > 0).mean() > 0.97


def test_deterministic_and_independent_of_chunking(inputs):
    requests, retrieved, items = inputs
    whole = make_agent_turns(requests, retrieved, items, "hotel", 3, AgentErrorRates())
    parts = [
        make_agent_turns(requests, retrieved[a:b], items, "hotel", 3, AgentErrorRates())
        for a, b in ((0, 700), (700, 2000))
    ]
    assert whole[0].equals(pl.concat([p[0] for p in parts]))
    assert whole[1].equals(pl.concat([p[1] for p in parts]))
    other = make_agent_turns(requests, retrieved, items, "hotel", 4, AgentErrorRates())
    assert not whole[0]["response"].equals(other[0]["response"])


def test_bad_inputs_are_named(inputs):
    requests, retrieved, items = inputs
    with pytest.raises(ValueError, match="lang 'fr'"):
        make_agent_turns(
            requests.with_columns(pl.lit("fr").alias("lang")),
            retrieved.head(2),
            items,
            "d",
            1,
            AgentErrorRates(),
        )
    bad = pl.DataFrame({"request_id": ["r0"], "item_ids": [["nope"]]})
    with pytest.raises(ValueError, match="unknown items"):
        make_agent_turns(requests, bad, items, "d", 1, AgentErrorRates())
    with pytest.raises(ValueError, match="must be in"):
        make_agent_turns(requests, retrieved, items, "d", 1, AgentErrorRates(1.5, 0))
    with pytest.raises(ValueError, match="items lacks required column 'price'"):
        make_agent_turns(requests, retrieved, items.drop("price"), "d", 1, AgentErrorRates())


def test_minimal_contract_columns_are_enough(inputs):
    requests, retrieved, items = inputs
    bare_items = items.select("item_id", "title", "category", "price")
    bare_requests = requests.select("request_id", "user_id", "ts", "query", "lang")
    turns, truth = make_agent_turns(
        bare_requests, retrieved.head(300), bare_items, "d", 1, AgentErrorRates()
    )
    assert turns.height == 300
    assert (
        not turns["instruction"].str.contains("km|公里|米").any()
    )  # no position: no distance limit
    assert "distance" not in set(truth["misstated"].explode().struct.field("field").drop_nulls())
