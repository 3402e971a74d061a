"""`recrm build` with an OpenAI-compatible endpoint configured: the judges run inside the real
build, their usage reaches the release manifest, judge-labelled entries say so, the per-build
budget stops the calls cleanly, and the API key appears nowhere in the warehouse or the release."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import shutil
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "llm_support"))
from fake_openai import FakeOpenAIServer, instance_of  # noqa: E402

SECRET = "sk-test-secret-never-shown-0042"
BUDGET = 400
GENERATED = 50  # turns the response generator writes; the judges get the rest of the budget
pytestmark = pytest.mark.slow


_REPLY_NUMBER = itertools.count()


def _distinct_replies(body: dict) -> str:
    """An instance of the requested schema (or free text), whose filler strings are replaced by a
    reply of its own per request: a fixed reply (`x`) would repeat verbatim across splits as the
    generated responses, which the release's leak audit rightly rejects."""
    digest = hashlib.sha256(body["messages"][-1]["content"].encode()).hexdigest()[:12]
    # Two requests may carry the same prompt (the same query from two users): number the replies.
    text = f"Here is what I found for you (reply {digest}-{next(_REPLY_NUMBER)})."
    fmt = body.get("response_format") or {}
    schema = fmt.get("schema") or (fmt.get("json_schema") or {}).get("schema")
    if not schema:
        return text

    def distinct(value):
        if isinstance(value, dict):
            return {k: distinct(v) for k, v in value.items()}
        if isinstance(value, list):
            return [distinct(v) for v in value]
        if isinstance(value, str) and value and set(value) == {"x"}:
            return text
        return value

    return json.dumps(distinct(instance_of(schema)))


def test_build_with_an_endpoint_judges_within_budget_and_hides_the_key(tmp_path, monkeypatch):
    logs = tmp_path / "logs"
    shutil.copytree(REPO / "sample_logs" / "movie_tickets", logs / "movie_tickets")
    (tmp_path / "recrm.toml").write_text(
        f"[llm]\nbudget_calls = {BUDGET}\ngenerate_max_requests = {GENERATED}\nconcurrency = 8\n"
    )
    shutil.copy(REPO / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RECRM_CONFIG", str(tmp_path / "recrm.toml"))
    monkeypatch.setenv("RECRM_LLM_MODEL", "test-judge")
    monkeypatch.setenv("RECRM_LLM_API_KEY", SECRET)
    with FakeOpenAIServer() as server:
        server.responder = _distinct_replies
        monkeypatch.setenv("RECRM_LLM_BASE_URL", server.base_url)
        code = main(
            [
                "build",
                "--logs", str(logs),
                "--warehouse", str(tmp_path / "wh.duckdb"),
                "--out", str(tmp_path / "releases"),
            ]
        )  # fmt: skip
        paid = server.requests
        assert all(h == f"Bearer {SECRET}" for h in server.auth_headers)
    assert code == 0
    assert 0 < paid <= BUDGET  # the budget stopped the build's calls

    (release,) = (tmp_path / "releases").iterdir()
    manifest = json.loads((release / "manifest.json").read_text())
    usage = manifest["totals"]["llm_usage"]
    assert usage["calls"] > 0 and usage["prompt_tokens"] > 0
    con = duckdb.connect()
    sources = dict(
        con.execute(
            f"SELECT label_source, count(*) FROM read_parquet('{release}/*/*.parquet', "
            "union_by_name=true) GROUP BY 1"
        ).fetchall()
    )
    assert sources.get("llm_judge", 0) > 0, sources
    judged_models = con.execute(
        f"SELECT DISTINCT provenance.judge_model FROM read_parquet('{release}/*/*.parquet', "
        "union_by_name=true) WHERE label_source = 'llm_judge'"
    ).fetchall()
    assert all(m[0].startswith("test-judge") for m in judged_models)
    # Responses the LLM generated for requests without a logged turn became entries too.
    (generated,) = con.execute(
        f"SELECT count(*) FROM read_parquet('{release}/instruction_following/*.parquet') "
        "WHERE provenance.source_row_ids[1] LIKE 'llm_generated_turns:%'"
    ).fetchone()
    assert generated > 0

    # The key is in no file the build wrote: warehouse, release, Dagster storage.
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.name != "recrm.toml":
            assert SECRET.encode() not in path.read_bytes(), path


_ITEM_LINE = re.compile(r"^\[([^\]]+)\] ([^|]+)")
_PRICE = re.compile(r"\| price: ([0-9.]+)")
_RATING = re.compile(r"\| rating: ([0-9.]+)")


def _agent_replies(body: dict) -> str:
    """The response generator's requests get an agent's answer recommending two of the
    retrieved items with their listed price and rating (what a model following the prompt
    writes); the judges' requests get `_distinct_replies`."""
    prompt = body["messages"][-1]["content"]
    marker = "## Items your tools retrieved"
    if marker not in prompt:
        return _distinct_replies(body)
    lines = prompt.split(marker, 1)[1].splitlines()[1:]
    items = [line for line in lines if _ITEM_LINE.match(line)][:2]
    digest = hashlib.sha256(prompt.encode()).hexdigest()[:6]
    parts = [f"Here are some options for you (ref {digest}):"]
    for n, line in enumerate(items, 1):
        price, rating = _PRICE.search(line), _RATING.search(line)
        facts = [f"{float(price.group(1)):g} yuan" if price else None,
                 f"rated {float(rating.group(1)):.1f}" if rating else None]  # fmt: skip
        title = _ITEM_LINE.match(line).group(2).strip()
        parts.append(f"{n}. 【{title}】" + ", ".join(f for f in facts if f) + ".")
    parts.append("Enjoy!")
    return json.dumps({"response": "\n".join(parts)})


def test_without_agent_turns_the_llm_generates_the_transcript_dimensions(tmp_path, monkeypatch):
    """A drop with no agent turns: without an LLM the transcript dimensions are left out (the
    preflight); with an endpoint the response generator answers logged requests, and every
    instruction-following and factual-consistency entry rests on a generated turn and says so."""
    logs = tmp_path / "logs"
    shutil.copytree(REPO / "sample_logs" / "movie_tickets", logs / "movie_tickets")
    (logs / "movie_tickets" / "agent_turns.jsonl").unlink()
    (tmp_path / "recrm.toml").write_text(
        f"[llm]\nbudget_calls = {BUDGET}\ngenerate_max_requests = 120\nconcurrency = 8\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RECRM_CONFIG", str(tmp_path / "recrm.toml"))
    monkeypatch.setenv("RECRM_LLM_MODEL", "test-generator")
    with FakeOpenAIServer() as server:
        server.responder = _agent_replies
        monkeypatch.setenv("RECRM_LLM_BASE_URL", server.base_url)
        code = main(["build", "--logs", str(logs), "--warehouse", str(tmp_path / "wh.duckdb"),
                     "--out", str(tmp_path / "releases"), "--version", "gen-v1"])  # fmt: skip
    assert code == 0
    release = tmp_path / "releases" / "gen-v1"
    manifest = json.loads((release / "manifest.json").read_text())
    assert {"instruction_following", "factual_consistency"} <= set(manifest["dimensions"])
    con = duckdb.connect()
    for dim in ("instruction_following", "factual_consistency"):
        rows, generated, labels = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE provenance.source_row_ids[1] "
            "LIKE 'llm_generated_turns:%'), count(DISTINCT label) "
            f"FROM read_parquet('{release}/{dim}/*.parquet')"
        ).fetchone()
        assert rows > 0 and generated == rows, (dim, rows, generated)
        assert labels == 2, dim  # not one class
    card = (release / "README.md").read_text()
    assert "generated" in card
