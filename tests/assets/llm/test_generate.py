import json

import pytest

from assets.llm.generate import (
    AGENT_CONSTRAINTS,
    GENERATED_TABLE,
    generate_turns,
    pending_requests,
    write_generated_turns,
)
from core.llm.cache import ResponseCache
from core.llm.client import LLMClient
from core.llm.config import LLMConfig
from core.warehouse import Warehouse


@pytest.fixture
def wh(tmp_path, raw_logs):
    warehouse = Warehouse(tmp_path / "wh.duckdb")
    raw_logs(warehouse)
    return warehouse


def test_pending_requests_are_those_without_a_turn_that_were_shown_items(wh):
    pending = pending_requests(wh, "food", None)
    assert pending["request_id"].to_list() == ["r2"]
    # Position order, the first five.
    assert pending["retrieved_item_ids"][0].to_list() == ["i6", "i5", "i4", "i3", "i2"]
    assert pending["evidence"][0][0]["title"] == "Dish 6"
    assert pending_requests(wh, "food", 0).height == 0


def test_generated_turns_are_masked_deterministic_and_cached(wh, fake_server, templates):
    fake_server.responder = lambda body: json.dumps(
        {"response": "Try Dish 6 (16 yuan). Questions? Call 13812345678."}
    )
    client = LLMClient(LLMConfig(base_url=fake_server.base_url, model="fake"), ResponseCache(wh))
    frame, usage, meta = generate_turns(wh, "food", client)
    assert meta == {
        "pending_requests": 1,
        "generated": 1,
        "not_generated_failed": 0,
        "not_generated_budget": 0,
    }
    row = frame.row(0, named=True)
    assert row["response"] == "Try Dish 6 (16 yuan). Questions? Call [PHONE]."
    assert row["constraints"] == AGENT_CONSTRAINTS and row["template_id"] == "generate_response.v1"
    assert row["retrieved_item_ids"] == ["i6", "i5", "i4", "i3", "i2"]
    prompt = fake_server.bodies[0]["messages"][-1]["content"]
    assert "noodles 2" in prompt and "[i6] Dish 6" in prompt and "shopping assistant" in prompt
    assert write_generated_turns(wh, "food", frame) == 1
    again, usage2, _ = generate_turns(wh, "food", client)
    assert fake_server.requests == 1 and usage2.cached_calls == 1
    assert again["turn_id"].to_list() == frame["turn_id"].to_list()
    assert wh.count(GENERATED_TABLE, "food") == 1
