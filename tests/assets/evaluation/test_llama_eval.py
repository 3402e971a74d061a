"""The real model end to end: `recrm eval --judge` with llama.cpp's server on SmolLM2-135M scores a
small release; its summary is well formed and recomputed from its items, and a rerun is answered
from the cache with the same items. The model is tiny: this proves the path, not the judge (and
it keeps to the answer format only under the answer grammar)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import polars as pl
import pytest

from assets.evaluation.summary import all_figures
from pipelines.cli import main
from schemas.entries import DIMENSIONS
from schemas.evaluation import ITEMS_SCHEMA, METRICS

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "llm_support"))
import llama_server  # noqa: E402

pytestmark = [pytest.mark.llm, pytest.mark.slow]


@pytest.fixture(scope="module")
def llama_url():
    reason = llama_server.unavailable_reason()
    if reason:
        pytest.skip(reason)
    yield llama_server.start()
    llama_server.stop()


def test_smollm2_scores_a_small_release(eval_release, llama_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "results"
    args = [
        "eval", str(eval_release), "--name", "smollm2", "--judge", "--base-url", llama_url,
        "--model", "smollm2-135m", "--max-tokens", "48", "--concurrency", "2", "--answer-grammar",
        "--limit", "4", "--resamples", "100", "--out", str(out),
    ]  # fmt: skip
    assert main(args) == 0
    folder = out / eval_release.name / "smollm2"
    summary = json.loads((folder / "summary.json").read_text())
    items = pl.read_parquet(folder / "items.parquet")
    # Well formed: every dimension, every metric, counts that add up, the usage of the run.
    assert list(summary["dimensions"]) == list(DIMENSIONS)
    for dim, figures in summary["dimensions"].items():
        assert figures["entries"] == 4 and list(figures["metrics"]) == list(METRICS[dim])
        assert 0 <= figures["invalid"] <= 4 and figures["invalid_rate"] == figures["invalid"] / 4
        for f in figures["metrics"].values():
            assert f["value"] is None or 0 <= f["value"] <= 1
    assert pl.read_parquet_schema(folder / "items.parquet").keys() == set(ITEMS_SCHEMA.names)
    assert items["parsed_ok"].sum() > 0  # the model said something in the format
    # llama.cpp returns log-probabilities: the behaviour score comes from them.
    assert summary["dimensions"]["behavior_prediction"]["auc_source"] == "logprobs"
    usage = summary["llm_usage"]
    assert usage["calls"] == 20 and usage["cached_calls"] == 0 and usage["failures"] == 0
    assert summary["scorer"]["judge"]["temperature"] == 0.0
    # Reproducible from its items.
    recomputed = all_figures(items, summary["evaluation"]["seed"], 100)
    assert json.loads(json.dumps(recomputed)) == summary["dimensions"]
    # A rerun makes no call and gives the same items.
    assert main([*args[:3], "smollm2-again", *args[4:]]) == 0
    again = out / eval_release.name / "smollm2-again"
    rerun = json.loads((again / "summary.json").read_text())
    assert rerun["llm_usage"]["calls"] == 0 and rerun["llm_usage"]["cached_calls"] == 20
    assert pl.read_parquet(again / "items.parquet").equals(items)
    assert rerun["dimensions"] == summary["dimensions"]
