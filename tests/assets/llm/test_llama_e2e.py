"""End-to-end runs of every judge and the generator against the real model (llama.cpp server on
SmolLM2-135M). The model is tiny: these prove the real path (HTTP, grammar-constrained JSON,
validation, caching, budget), not label quality."""

import polars as pl
import pytest

from assets.llm.generate import generate_turns
from assets.llm.judged import judge_entries
from core.llm.cache import ResponseCache
from core.llm.client import LLMClient
from core.llm.config import LLMConfig
from core.warehouse import Warehouse
from schemas.entries import entry_schema

pytestmark = [pytest.mark.llm, pytest.mark.slow]


def _client(url, wh, **cfg) -> LLMClient:
    config = LLMConfig(
        **(
            {"base_url": url, "model": "smollm2-135m", "max_tokens": 160, "timeout": 180.0}
            | {"concurrency": 2}
            | cfg
        )
    )
    return LLMClient(config, ResponseCache(wh))


@pytest.mark.parametrize(
    "dimension", ["instruction_following", "factual_consistency", "query_item_relevance"]
)
def test_each_judge_labels_end_to_end(llama_url, tmp_path, templates, make_rows, dimension):
    wh = Warehouse(tmp_path / "wh.duckdb")
    entries = pl.from_arrow(make_rows[dimension](n=2))
    if dimension == "factual_consistency":  # let the judge decide one entry
        entries = entries.with_columns(label_confidence=pl.lit(0.5))
    out = judge_entries(dimension, entries, _client(llama_url, wh), scope="e2e")
    assert out.usage.calls >= 1 and out.usage.calls + out.usage.failures >= 2
    assert out.metadata["judged"] + out.usage.failures == out.metadata["to_judge"]
    assert out.frame.to_arrow().schema.names == entry_schema(dimension).names
    decided = out.frame.filter(pl.col("label_source") == "llm_judge")
    assert decided.height == out.metadata["decided_by_judge"]
    for prov in decided["provenance"]:
        assert prov["judge_model"].startswith("smollm2-135m (judge_")
    # A second run is served from the cache.
    again = judge_entries(dimension, entries, _client(llama_url, wh), scope="e2e")
    # Only what failed the first time is asked again (at most 1 + max_reasks calls each).
    assert again.usage.cached_calls == out.metadata["judged"]
    assert again.usage.calls <= out.usage.failures * 2
    if not out.usage.failures:
        assert again.frame.equals(out.frame)


def test_the_generator_writes_turns_end_to_end(llama_url, tmp_path, templates, raw_logs):
    wh = Warehouse(tmp_path / "wh.duckdb")
    raw_logs(wh)
    frame, usage, meta = generate_turns(wh, "food", _client(llama_url, wh))
    assert meta["pending_requests"] == 1 and usage.calls >= 1
    assert frame.height == meta["generated"] == 1
    assert len(frame["response"][0]) > 0


def test_a_budget_stop_resumes_with_only_the_missing_calls(
    llama_url, tmp_path, templates, make_rows
):
    wh = Warehouse(tmp_path / "wh.duckdb")
    entries = pl.from_arrow(make_rows["query_item_relevance"](n=3))
    first = judge_entries(
        "query_item_relevance", entries, _client(llama_url, wh, concurrency=1, budget_calls=1)
    )
    assert first.usage.calls == 1 and first.usage.budget_skipped == 2
    second = judge_entries("query_item_relevance", entries, _client(llama_url, wh))
    assert second.usage.cached_calls == 1 and second.usage.calls == 2
    assert second.metadata["judged"] == 3
