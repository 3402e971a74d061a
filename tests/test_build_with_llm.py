"""`recrm build` with an OpenAI-compatible endpoint configured: the judges run inside the real
build, their usage reaches the release manifest, judge-labelled entries say so, the per-build
budget stops the calls cleanly, and the API key appears nowhere in the warehouse or the release."""

from __future__ import annotations

import hashlib
import itertools
import json
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
