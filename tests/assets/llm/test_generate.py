import json

import polars as pl
import pytest

from assets.dimensions.factual_consistency.build import label_turns as fc_label_turns
from assets.dimensions.factual_consistency.turns import GENERATED_PREFIX, load_turns
from assets.dimensions.instruction_following.build import label_turns as if_label_turns
from assets.dimensions.instruction_following.parse import cross_check, parse_instruction
from assets.llm.generate import (
    GENERATED_TABLE,
    agent_constraints,
    agent_instruction,
    generate_turns,
    pending_requests,
    query_lang,
    write_generated_turns,
)
from core.llm.cache import ResponseCache
from core.llm.client import LLMClient
from core.llm.config import LLMConfig
from core.warehouse import Warehouse
from schemas.constraints import constraints_from_json, constraints_to_json


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
    assert row["constraints"] == constraints_to_json(agent_constraints("en"))
    assert row["template_id"] == "generate_response.v1"
    assert row["retrieved_item_ids"] == ["i6", "i5", "i4", "i3", "i2"]
    prompt = fake_server.bodies[0]["messages"][-1]["content"]
    assert "noodles 2" in prompt and "[i6] Dish 6" in prompt and row["instruction"] in prompt
    assert write_generated_turns(wh, "food", frame) == 1
    again, usage2, _ = generate_turns(wh, "food", client)
    assert fake_server.requests == 1 and usage2.cached_calls == 1
    assert again["turn_id"].to_list() == frame["turn_id"].to_list()
    assert wh.count(GENERATED_TABLE, "food") == 1


def test_query_language_follows_the_script():
    assert query_lang("附近的面馆") == "zh" and query_lang("cheap noodles") == "en"
    assert query_lang("KFC 附近") == "zh" and query_lang(None) == "en"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_instructions_use_the_vocabulary_and_parse_back_to_the_declared_constraints(lang):
    variants = set()
    for k in range(12):
        instruction, declared = agent_instruction("food_delivery", f"r{k}", lang)
        parsed = parse_instruction(instruction)
        assert cross_check(parsed, declared) == []
        assert parsed == constraints_from_json(declared) == agent_constraints(lang)
        variants.add(instruction)
        # Rendered with the vocabulary's own phrasings (schemas.constraints.describe).
        assert any(
            c.describe(lang, v) in instruction for c in agent_constraints(lang) for v in (0, 1)
        )
    assert len(variants) > 1  # phrasing variants differ between requests
    assert agent_instruction("food_delivery", "r1", lang) == agent_instruction(
        "food_delivery", "r1", lang
    )


def test_generated_turns_parse_verify_and_check_end_to_end(wh, fake_server, templates):
    """Fake endpoint -> generator -> llm_generated_turns -> the IF parser agrees with the declared
    constraints, and both rule labellers take the turn, marked as generated."""

    def answer(body: dict) -> str:
        prompt = body["messages"][-1]["content"]
        assert "Answer in English." in prompt or "Respond only in English." in prompt
        return json.dumps(
            {"response": "Here are some options for you:\n1. 【Dish 6】16 yuan.\nEnjoy!"}
        )

    fake_server.responder = answer
    client = LLMClient(LLMConfig(base_url=fake_server.base_url, model="fake"), ResponseCache(wh))
    frame, _, _ = generate_turns(wh, "food", client)
    write_generated_turns(wh, "food", frame)
    row = frame.row(0, named=True)
    parsed = parse_instruction(row["instruction"])
    assert cross_check(parsed, row["constraints"]) == []
    assert [c.to_json_obj() for c in parsed] == json.loads(row["constraints"])

    turns = load_turns(wh, "food")
    generated_id = GENERATED_PREFIX + row["turn_id"]
    assert turns["turn_id"].to_list() == ["t1", generated_id]
    labelled, stats = if_label_turns(turns)
    got = labelled.filter(pl.col("turn_id") == generated_id).row(0, named=True)
    assert stats["set_aside_mismatch"] == 0
    assert (got["label"], got["violations"], got["label_source"]) == (1, [], "rule")
    assert {c["type"] for c in got["constraints"]} == {c.type for c in parsed}
    checked, _ = fc_label_turns(turns)
    got = checked.filter(pl.col("turn_id") == generated_id).row(0, named=True)
    assert (got["label"], got["unsupported_claims"], got["label_source"]) == (1, [], "rule")
