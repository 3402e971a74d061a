"""Small entry tables built in code, in the exact entry schema of each dimension."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from schemas.entries import entry_schema


def _common(dim: str, i: int, domain: str, label_source: str, confidence: float | None) -> dict:
    return {
        "entry_id": f"{dim[:3]}-{domain}-{i}",
        "dimension": dim,
        "domain": domain,
        "split": "train",
        "prompt": f"prompt {i}",
        "answer": "<answer>?</answer>",
        "label_source": label_source,
        "label_confidence": confidence,
        "provenance": {
            "user_id_hash": f"u{i}",
            "request_id": f"r{i}",
            "source_row_ids": [f"t{i}"],
            "log_fingerprint": "fp",
            "builder_version": "test",
            "template_id": f"{dim}.v1",
            "template_hash": "h",
            "judge_model": None,
            "operator": None,
        },
    }


def if_rows(domain: str = "food", n: int = 4) -> pa.Table:
    dim = "instruction_following"
    rows = []
    for i in range(n):
        constraints = [{"type": "max_items", "params": json.dumps({"n": 3})}]
        if i % 2 == 0:
            constraints.append({"type": "tone", "params": json.dumps({"tone": "polite"})})
        rows.append(
            _common(dim, i, domain, "rule", 1.0)
            | {
                "instruction": "Recommend at most 3 items. Be polite.",
                "query": f"cheap noodles {i}",
                "response": f"Here are noodles {i}: Item A (12 yuan).",
                "constraints": constraints,
                "violations": [] if i != 3 else ["max_items"],
                "is_synthetic": False,
                "label": 0 if i == 3 else 1,
            }
        )
    return pa.Table.from_pylist(rows, schema=entry_schema(dim))


ITEM = {
    "item_id": "i1",
    "title": "Beef Noodles",
    "category": "noodles",
    "tags": ["spicy"],
    "price": 12.0,
    "rating": 4.5,
    "description": "hand-pulled noodles",
    "attributes": "{}",
}


def fc_rows(domain: str = "food", n: int = 3) -> pa.Table:
    dim = "factual_consistency"
    rows = [
        _common(dim, i, domain, "rule", 1.0)
        | {
            "query": "noodles",
            "evidence": [ITEM],
            "response": f"Beef Noodles cost {12 + i} yuan and are rated 4.5.",
            "unsupported_claims": []
            if i == 0
            else [{"item_id": "i1", "field": "price", "claimed": str(12 + i), "actual": "12.0"}],
            "is_synthetic": False,
            "label": 1 if i == 0 else 0,
        }
        for i in range(n)
    ]
    return pa.Table.from_pylist(rows, schema=entry_schema(dim))


def qir_rows(domain: str = "food", n: int = 4) -> pa.Table:
    dim = "query_item_relevance"
    rows = []
    for i in range(n):
        human = i == 0
        rows.append(
            # heuristic 1 and 2 below the labeler's MIN_CONFIDENCE (undecided), 3 above it
            _common(
                dim,
                i,
                domain,
                "human" if human else "heuristic",
                1.0 if human else (0.3, 0.3, 0.45, 0.8)[i % 4],
            )  # fmt: skip
            | {"query": f"noodles {i}", "item": ITEM | {"item_id": f"i{i}"}, "label": i % 4}
        )
    return pa.Table.from_pylist(rows, schema=entry_schema(dim))


def empty_rows(dim: str) -> pa.Table:
    return entry_schema(dim).empty_table()


@pytest.fixture
def make_rows():
    return {
        "instruction_following": if_rows,
        "factual_consistency": fc_rows,
        "query_item_relevance": qir_rows,
    }


# -- servers and templates -----------------------------------------------------------------------
import shutil  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import core.templates  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "llm_support"))

import llama_server  # noqa: E402
from fake_openai import FakeOpenAIServer  # noqa: E402

ANSWER_ONLY = (
    '---\nid: {name}\nversion: 1\nanswer: "<answer>{{{{label}}}}</answer>"\n---\n{{{{query}}}}\n'
)


@pytest.fixture
def templates(tmp_path, monkeypatch):
    """The real templates, plus a minimal answer template for any dimension not written yet."""
    folder = tmp_path / "templates"
    shutil.copytree(core.templates.TEMPLATES_DIR, folder)
    for dim in ("instruction_following", "factual_consistency", "query_item_relevance"):
        if not list(folder.glob(f"{dim}.v*.md")):
            (folder / f"{dim}.v1.md").write_text(ANSWER_ONLY.format(name=dim))
    monkeypatch.setattr(core.templates, "TEMPLATES_DIR", folder)
    core.templates.load_template.cache_clear()
    yield folder
    core.templates.load_template.cache_clear()


@pytest.fixture
def fake_server():
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture(scope="session")
def llama_url():
    reason = llama_server.unavailable_reason()
    if reason:
        pytest.skip(reason)
    yield llama_server.start()
    llama_server.stop()


# -- raw log tables ------------------------------------------------------------------------------
from schemas.logs import CONTRACT_TABLES  # noqa: E402


def write_raw(warehouse, table: str, rows: list[dict]) -> None:
    schema = CONTRACT_TABLES[table].warehouse_schema()
    warehouse.write_table(f"raw_{table}", pa.Table.from_pylist(rows, schema=schema), schema=schema)


@pytest.fixture
def raw_logs():
    """A tiny domain `food`: three requests; r1 has an agent turn, r3 was shown nothing."""

    def build(warehouse):
        items = [
            {
                "domain": "food",
                "item_id": f"i{k}",
                "title": f"Dish {k}",
                "category": "noodles",
                "price": 10.0 + k,
                "tags": ["hot"],
                "rating": 4.0,
            }
            for k in range(7)
        ]
        write_raw(warehouse, "items", items)
        write_raw(
            warehouse,
            "requests",
            [
                {
                    "domain": "food",
                    "request_id": f"r{k}",
                    "user_id_hash": f"u{k}",
                    "query": f"noodles {k}",
                }
                for k in (1, 2, 3)
            ],
        )
        # r2 was shown all seven items, in reverse id order.
        shown = [
            {"domain": "food", "request_id": "r2", "item_id": f"i{k}", "position": 6 - k}
            for k in range(7)
        ]
        shown.append({"domain": "food", "request_id": "r1", "item_id": "i0", "position": 0})
        write_raw(warehouse, "impressions", shown)
        write_raw(
            warehouse,
            "agent_turns",
            [
                {
                    "domain": "food",
                    "turn_id": "t1",
                    "request_id": "r1",
                    "instruction": "x",
                    "response": "y",
                    "retrieved_item_ids": ["i0"],
                }
            ],
        )

    return build
