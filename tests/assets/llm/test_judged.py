import json

import polars as pl
import pytest

from assets.llm.judged import judge_entries
from core.llm.cache import ResponseCache
from core.llm.client import LLMClient
from core.llm.config import LLMConfig
from core.warehouse import Warehouse


def _client(server, tmp_path, **cfg) -> LLMClient:
    config = LLMConfig(
        **({"base_url": server.base_url, "model": "fake", "backoff_base": 0.01} | cfg)
    )
    return LLMClient(config, ResponseCache(Warehouse(tmp_path / "wh.duckdb")))


def _by_id(frame: pl.DataFrame) -> dict[str, dict]:
    return {r["entry_id"]: r for r in frame.iter_rows(named=True)}


def test_relevance_judge_replaces_heuristic_labels_and_keeps_human(
    fake_server, tmp_path, templates, make_rows
):
    fake_server.responder = lambda body: json.dumps({"label": 3, "confidence": "high"})
    entries = pl.from_arrow(make_rows["query_item_relevance"]())  # 1 human (0), heuristic 1,2,3
    out = judge_entries("query_item_relevance", entries, _client(fake_server, tmp_path))
    rows = _by_id(out.frame)
    human = rows["que-food-0"]
    assert (human["label"], human["label_source"], human["answer"]) == (
        0,
        "human",
        "<answer>?</answer>",
    )
    # The judge decides the labels the rules left undecided (below MIN_CONFIDENCE) ...
    for i in (1, 2):
        row = rows[f"que-food-{i}"]
        assert (row["label"], row["label_source"], row["label_confidence"]) == (
            3,
            "llm_judge",
            0.95,
        )
        assert row["answer"] == "<answer>3</answer>"
        assert row["provenance"]["judge_model"].startswith("fake (judge_relevance.v1 sha256:")
    # ... and a confident rule label stands (judged only to measure agreement).
    confident = rows["que-food-3"]
    assert (confident["label"], confident["label_source"], confident["label_confidence"]) == (
        3,
        "heuristic",
        0.8,
    )
    assert confident["provenance"]["judge_model"] is None
    assert out.frame.schema == entries.schema
    meta = out.metadata
    assert meta["judged"] == 4 and meta["decided_by_judge"] == 2
    assert meta["left_out_undecided"] == 0
    assert meta["n_human"] == 1 and meta["agreement_human"] == 0.0
    assert meta["n_heuristic"] == 3 and meta["agreement_heuristic"] == pytest.approx(
        1 / 3, abs=1e-3
    )
    assert out.usage.calls == 4 and fake_server.requests == 4
    prompts = {b["messages"][-1]["content"] for b in fake_server.bodies}
    prompt = next(p for p in prompts if "noodles 0" in p)
    assert "Beef Noodles" in prompt and "price: 12.00" in prompt


def test_undecided_labels_the_judge_does_not_answer_are_left_out(
    fake_server, tmp_path, templates, make_rows
):
    fake_server.responder = lambda body: "not json at all"
    entries = pl.from_arrow(make_rows["query_item_relevance"]())
    out = judge_entries(
        "query_item_relevance", entries, _client(fake_server, tmp_path, max_retries=0)
    )
    # Human and confident rule labels stay; the two undecided ones are not guessed.
    assert sorted(out.frame["entry_id"]) == ["que-food-0", "que-food-3"]
    assert out.metadata["left_out_undecided"] == 2 and out.metadata["decided_by_judge"] == 0


def test_agree_only_drops_contradicted_labels(fake_server, tmp_path, templates, make_rows):
    fake_server.responder = lambda body: json.dumps({"label": 3, "confidence": "low"})
    entries = pl.from_arrow(make_rows["query_item_relevance"]())
    out = judge_entries(
        "query_item_relevance", entries, _client(fake_server, tmp_path), policy="agree_only"
    )
    # The human row stays whatever the judge says; heuristic 1 and 2 disagree with 3: dropped.
    assert sorted(out.frame["entry_id"]) == ["que-food-0", "que-food-3"]
    assert out.metadata["dropped_disagreeing"] == 2


def test_instruction_judge_decides_the_soft_constraints(
    fake_server, tmp_path, templates, make_rows
):
    # The judge says the tone is broken (and invents a type the entry does not have).
    fake_server.responder = lambda body: json.dumps(
        {"violated": ["tone", "made_up"], "compliant": False, "confidence": "medium"}
    )
    entries = pl.from_arrow(make_rows["instruction_following"]())
    out = judge_entries("instruction_following", entries, _client(fake_server, tmp_path))
    rows = _by_id(out.frame)
    # Rows 0 and 2 carry a tone constraint: the judge decides them.
    for i in (0, 2):
        row = rows[f"ins-food-{i}"]
        assert (row["label"], row["violations"], row["label_source"]) == (0, ["tone"], "llm_judge")
        assert row["label_confidence"] == 0.75 and row["answer"] == "<answer>0</answer>"
    # Rows 1 and 3 have only hard constraints: the rule label stands.
    assert (rows["ins-food-1"]["label"], rows["ins-food-1"]["label_source"]) == (1, "rule")
    assert rows["ins-food-3"]["violations"] == ["max_items"]
    # Agreement on the hard part: the judge found no hard violation; the rule found one in row 3.
    assert out.metadata["n_rule"] == 4 and out.metadata["agreement_rule"] == 0.75
    prompts = [b["messages"][-1]["content"] for b in fake_server.bodies]
    assert sum('- tone: {"tone": "polite"}' in p for p in prompts) == 2


def test_factual_judge_fills_uncertain_labels_only(fake_server, tmp_path, templates, make_rows):
    claim = {"item_id": "i1", "field": "price", "claimed": "99", "actual": "12.0"}
    fake_server.responder = lambda body: json.dumps(
        {"unsupported_claims": [claim], "consistent": False, "confidence": "high"}
    )
    entries = pl.from_arrow(make_rows["factual_consistency"]()).with_columns(
        pl.when(pl.col("entry_id") == "fac-food-0")
        .then(pl.lit(0.6))
        .otherwise(pl.col("label_confidence"))
        .alias("label_confidence")
    )
    out = judge_entries("factual_consistency", entries, _client(fake_server, tmp_path))
    rows = _by_id(out.frame)
    assert rows["fac-food-0"]["label"] == 0 and rows["fac-food-0"]["unsupported_claims"] == [claim]
    assert rows["fac-food-0"]["label_source"] == "llm_judge"
    assert rows["fac-food-1"]["label_source"] == "rule"
    assert rows["fac-food-1"]["unsupported_claims"][0]["claimed"] == "13"
    # Rows 1 and 2 agree (hallucinated); row 0 (rule, 0.6 confident) said consistent.
    assert out.metadata["n_rule"] == 3 and out.metadata["agreement_rule"] == 0.6667
    assert "Beef Noodles" in fake_server.bodies[0]["messages"][-1]["content"]


def test_budget_stop_keeps_rule_labels_and_says_so(fake_server, tmp_path, templates, make_rows):
    fake_server.responder = lambda body: json.dumps(
        {"violated": ["tone"], "compliant": False, "confidence": "high"}
    )
    entries = pl.from_arrow(make_rows["instruction_following"](n=8))
    client = _client(fake_server, tmp_path, concurrency=1, budget_calls=1)
    out = judge_entries("instruction_following", entries, client)
    assert fake_server.requests == 1 and out.usage.budget_skipped == 7
    assert out.metadata["decided_by_judge"] == 1 and out.metadata["not_judged_budget"] == 3
    assert out.frame.filter(pl.col("label_source") == "rule").height == 7
    # The next run (fresh budget) pays only for the seven missing verdicts.
    fake_server.reset_counts()
    again = judge_entries("instruction_following", entries, _client(fake_server, tmp_path))
    assert fake_server.requests == 7 and again.usage.cached_calls == 1
    assert again.metadata["decided_by_judge"] == 4 and again.metadata["not_judged_budget"] == 0


def test_failed_requests_are_counted_not_fatal(fake_server, tmp_path, templates, make_rows):
    fake_server.inject("500", "500")
    fake_server.responder = lambda body: json.dumps({"label": 2, "confidence": "high"})
    entries = pl.from_arrow(make_rows["query_item_relevance"]())
    client = _client(fake_server, tmp_path, concurrency=1, max_retries=1)
    out = judge_entries("query_item_relevance", entries, client)
    assert out.usage.failures == 1 and out.metadata["judged"] == 3
    # The failed request was an undecided rule label's: left out, not guessed, and counted.
    assert out.metadata["left_out_undecided"] == 1 and out.frame.height == 3


@pytest.mark.parametrize(
    "dimension", ["instruction_following", "factual_consistency", "query_item_relevance"]
)
def test_an_empty_domain_costs_nothing(fake_server, tmp_path, templates, make_rows, dimension):
    entries = pl.from_arrow(make_rows[dimension]()).clear()
    out = judge_entries(dimension, entries, _client(fake_server, tmp_path))
    assert out.frame.height == 0 and out.frame.schema == entries.schema
    assert fake_server.requests == 0 and out.metadata["to_judge"] == 0
