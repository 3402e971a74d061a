"""Helpers of the evaluation tests: a small release published in code (the release layer's own
benchmark fixture, with prompts that state an output contract), and judges scripted from its gold
answers for the OpenAI-protocol test server."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import polars as pl

from assets.release.publish import publish_release
from core.settings import Settings
from core.warehouse import Warehouse
from schemas.entries import DIMENSIONS

TESTS = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "recrm_benchmark_fixture", TESTS / "assets" / "release" / "benchmark_fixture.py"
)
benchmark_fixture = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(benchmark_fixture)
CODE = {"package": "recrm-pipeline", "version": "0.1.0", "git_commit": "0" * 40}
ENTRIES = 60  # per dimension: 10 in each test split

GRADES = {
    "instruction_following": 2,
    "factual_consistency": 2,
    "query_item_relevance": 4,
    "behavior_prediction": 3,
}
CONTRACT = {
    "instruction_following": "<answer>1</answer> (compliant) or <answer>0</answer> (not compliant)",
    "factual_consistency": "<answer>1</answer> (consistent) or <answer>0</answer> (hallucinated)",
    "query_item_relevance": "<answer>3</answer>, <answer>2</answer>, <answer>1</answer> or "
    "<answer>0</answer>",
    "behavior_prediction": "<answer>0</answer>, <answer>1</answer> or <answer>2</answer>",
}


def _prompt(dim: str, row: dict) -> str:
    """A short prompt that states its output contract, as the released prompts do."""
    if dim == "item_ranking":
        ids = ", ".join(c["item_id"] for c in row["candidates"])
        return (
            f"Case {row['entry_id']}. Rank the candidates {ids} by how strongly the user will "
            "engage with each. Give every candidate's item id exactly once, most engaged first, "
            "separated by commas, in the form <answer>id_a, id_b, id_c</answer>."
        )
    return (
        f"Case {row['entry_id']} of {dim.replace('_', ' ')}. Give the label alone in the form "
        f"{CONTRACT[dim]}."
    )


def publish_fixture_release(root: Path, n: int = ENTRIES, version: str | None = None) -> Path:
    warehouse = Warehouse(root / "wh.duckdb")
    for dim in DIMENSIONS:
        rows = benchmark_fixture.make_entries(dim, n)
        for i, row in enumerate(rows):
            if dim in GRADES:
                # The fixture's test user holds one label only; vary it along the entries.
                row["label"] = (i // 6) % GRADES[dim]
                row["answer"] = f"<answer>{row['label']}</answer>"
            row["prompt"] = _prompt(dim, row)
        benchmark_fixture.write_benchmark(warehouse, dim, rows)
    benchmark_fixture.write_inputs(warehouse)
    settings = Settings(
        releases_dir=root / "releases",
        warehouse_path=root / "wh.duckdb",
        release_version=version,
        overwrite_release=True,
    )
    return publish_release(warehouse, settings, code=CODE).path


def release_frame(release: Path, split: str = "test") -> pl.DataFrame:
    """Every entry of a split: entry_id, dimension, prompt, answer, label, candidate ids, gold."""
    frames = []
    for dim in DIMENSIONS:
        frame = pl.read_parquet(release / dim / f"{split}-*.parquet")
        gold = (
            pl.col("gold_ranking").list.join(",")
            if dim == "item_ranking"
            else pl.col("label").cast(pl.String)
        )
        frames.append(frame.select("entry_id", "dimension", "prompt", "answer", gold.alias("gold")))
    return pl.concat(frames)


INVERSE = {
    "instruction_following": {"0": "1", "1": "0"},
    "factual_consistency": {"0": "1", "1": "0"},
    "query_item_relevance": {"0": "3", "1": "2", "2": "1", "3": "0"},
    "behavior_prediction": {"0": "2", "1": "0", "2": "0"},
}


def scripted_answer(dim: str, gold: str, mode: str) -> str:
    """The reply of a judge that is right (`perfect`), always wrong (`inverse`), or says nothing
    in the format (`invalid`)."""
    if mode == "invalid":
        return "I cannot tell from what I was given."
    if dim == "item_ranking":
        ids = gold.split(",")
        return "<answer>" + ", ".join(ids if mode == "perfect" else ids[::-1]) + "</answer>"
    return f"Brief reasoning. <answer>{gold if mode == 'perfect' else INVERSE[dim][gold]}</answer>"


class ScriptedJudge:
    """A responder for FakeOpenAIServer: looks the prompt up in the release and answers by the
    mode of its entry (`modes`: entry_id -> mode; default `default`)."""

    def __init__(self, release: Path, default: str = "perfect", modes: dict | None = None):
        frame = release_frame(release)
        self.by_prompt = {r["prompt"]: r for r in frame.iter_rows(named=True)}
        self.default = default
        self.modes = modes or {}

    def __call__(self, body: dict) -> str:
        entry = self.by_prompt[body["messages"][-1]["content"]]
        mode = self.modes.get(entry["entry_id"], self.default)
        return scripted_answer(entry["dimension"], entry["gold"], mode)


def entry_id_in(prompt: str) -> str:
    return re.match(r"Case (\S+)", prompt).group(1).rstrip(".")
