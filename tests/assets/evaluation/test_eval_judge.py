"""`recrm eval --judge` end to end against the OpenAI-protocol test server: a judge scripted to
answer perfectly, inversely or invalidly gets ACC 100, 0 and the scripted invalid rate in every
dimension; log-probabilities give AUC its continuous score; an endpoint that answers nothing
parseable is refused with nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from eval_support import ScriptedJudge, release_frame, scripted_answer
from fake_openai import logprobs_for

from pipelines.cli import main
from schemas.entries import DIMENSIONS

HEADLINE = {
    "instruction_following": "acc",
    "factual_consistency": "acc",
    "query_item_relevance": "acc",
    "behavior_prediction": "acc",
    "item_ranking": "pairwise_acc",
}


def _eval(release: Path, out: Path, server, name: str, *extra: str) -> int:
    return main(
        [
            "eval", str(release), "--name", name, "--judge",
            "--base-url", server.base_url, "--model", "scripted", "--out", str(out),
            "--resamples", "50", *extra,
        ]
    )  # fmt: skip


def _summary(out: Path, release: Path, name: str) -> dict:
    return json.loads((out / release.name / name / "summary.json").read_text())


@pytest.mark.parametrize("mode, expected", [("perfect", 1.0), ("inverse", 0.0)])
def test_a_perfect_and_an_inverse_judge_score_100_and_0(
    eval_release, fake_server, tmp_path, monkeypatch, mode, expected
):
    monkeypatch.chdir(tmp_path)
    fake_server.responder = ScriptedJudge(eval_release, default=mode)
    assert _eval(eval_release, tmp_path / "results", fake_server, mode) == 0
    summary = _summary(tmp_path / "results", eval_release, mode)
    assert list(summary["dimensions"]) == list(DIMENSIONS)
    for dim, figures in summary["dimensions"].items():
        assert figures["invalid_rate"] == 0.0, dim
        assert figures["metrics"][HEADLINE[dim]]["value"] == expected, dim
    # Every entry went out as its released prompt, alone, at temperature 0 with the seed.
    sent = fake_server.bodies[0]
    assert [m["role"] for m in sent["messages"]] == ["user"]
    assert sent["temperature"] == 0.0 and sent["seed"] == 0
    prompts = {b["messages"][0]["content"] for b in fake_server.bodies}
    assert prompts == set(release_frame(eval_release)["prompt"])
    assert summary["scorer"]["judge"]["model"] == "scripted"
    assert summary["llm_usage"]["calls"] == fake_server.requests == 50


def test_an_invalid_answer_counts_wrong_and_its_rate_is_reported(
    eval_release, fake_server, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    frame = release_frame(eval_release)
    # A different share of invalid answers per dimension: 1, 2, 3, 4, 5 of 10 entries.
    modes = {}
    for k, dim in enumerate(DIMENSIONS):
        ids = frame.filter(pl.col("dimension") == dim)["entry_id"].sort().to_list()
        modes.update({e: "invalid" for e in ids[: k + 1]})
    fake_server.responder = ScriptedJudge(eval_release, default="perfect", modes=modes)
    assert _eval(eval_release, tmp_path / "results", fake_server, "some-invalid") == 0
    summary = _summary(tmp_path / "results", eval_release, "some-invalid")
    for k, dim in enumerate(DIMENSIONS):
        figures = summary["dimensions"][dim]
        assert figures["entries"] == 10
        assert figures["invalid"] == k + 1 and figures["invalid_rate"] == (k + 1) / 10, dim
        if dim != "item_ranking":
            assert figures["metrics"]["acc"]["value"] == pytest.approx(1 - (k + 1) / 10), dim
    items = pl.read_parquet(
        tmp_path / "results" / eval_release.name / "some-invalid" / "items.parquet"
    )
    invalid = items.filter(~pl.col("parsed_ok"))
    assert set(invalid["entry_id"]) == set(modes)
    assert invalid["error"].str.contains("no <answer>").all()
    assert invalid["answer"].str.contains("cannot tell").all()


def test_log_probabilities_give_the_continuous_score(
    eval_release, fake_server, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    judge = ScriptedJudge(eval_release)

    def with_logprobs(body):
        entry = judge.by_prompt[body["messages"][-1]["content"]]
        if entry["dimension"] == "item_ranking":
            return scripted_answer("item_ranking", entry["gold"], "perfect")
        label = entry["gold"]
        # Right label always, but only 60% sure: the score ranks positives above negatives.
        alternatives = {label: -0.51, ("0" if label != "0" else "1"): -0.92}
        tokens = ["Because.", " <answer>", label, "</answer>"]
        assert body["logprobs"] is True and body["top_logprobs"] == 5
        return {"content": "".join(tokens), "logprobs": logprobs_for(tokens, {2: alternatives})}

    fake_server.responder = with_logprobs
    assert _eval(eval_release, tmp_path / "results", fake_server, "lp") == 0
    summary = _summary(tmp_path / "results", eval_release, "lp")
    for dim in ("instruction_following", "factual_consistency", "behavior_prediction"):
        figures = summary["dimensions"][dim]
        assert figures["auc_source"] == "logprobs", dim
        assert figures["metrics"]["auc"]["value"] == 1.0, dim
    assert summary["dimensions"]["item_ranking"]["auc_source"] == "ranking"
    items = pl.read_parquet(tmp_path / "results" / eval_release.name / "lp" / "items.parquet")
    behaviour = items.filter(pl.col("dimension") == "behavior_prediction")
    # P(engaged) from the label token's alternatives, renormalized over the scale.
    engaged = behaviour.filter(pl.col("gold") >= 1)["score"]
    p = 2.718281828**-0.51 / (2.718281828**-0.51 + 2.718281828**-0.92)
    assert engaged.to_list() == pytest.approx([p] * engaged.len(), rel=1e-6)


def test_without_log_probabilities_the_label_is_the_score(
    eval_release, fake_server, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    fake_server.responder = ScriptedJudge(eval_release)
    args = ("--dimensions", "behavior_prediction", "--no-logprobs")
    assert _eval(eval_release, tmp_path / "results", fake_server, "nolp", *args) == 0
    summary = _summary(tmp_path / "results", eval_release, "nolp")
    assert summary["dimensions"]["behavior_prediction"]["auc_source"] == "label"
    assert "logprobs" not in fake_server.bodies[0]


def test_the_answer_grammar_goes_with_every_request_when_asked(
    eval_release, fake_server, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    fake_server.responder = ScriptedJudge(eval_release)
    args = ("--dimensions", "query_item_relevance,item_ranking", "--answer-grammar")
    assert _eval(eval_release, tmp_path / "results", fake_server, "grammar", *args) == 0
    grammars = [b["grammar"] for b in fake_server.bodies]
    assert len(grammars) == 20
    assert 'root ::= "<answer>" ("0" | "1" | "2" | "3") "</answer>"' in grammars
    assert sum(g.startswith('root ::= "<answer>" id (", " id)*') for g in grammars) == 10
    summary = _summary(tmp_path / "results", eval_release, "grammar")
    assert summary["scorer"]["grammar"] is True


def test_an_endpoint_that_answers_nothing_parseable_is_refused(
    eval_release, fake_server, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    fake_server.responder = lambda body: "Sure! Here is my analysis."
    assert _eval(eval_release, tmp_path / "results", fake_server, "garbled") == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("recrm eval: error: the endpoint answered nothing parseable")
    assert len(err.splitlines()) == 1
    results = tmp_path / "results"
    # No result, no registration; the cache alone remains (the answers were paid for).
    assert not (results / eval_release.name).exists()
    assert not list((results / ".scorers").glob("*.json"))


def test_a_request_the_endpoint_refuses_is_an_invalid_answer(
    eval_release, fake_server, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    fake_server.responder = ScriptedJudge(eval_release)
    fake_server.inject("400")
    args = ("--dimensions", "instruction_following", "--concurrency", "1")
    assert _eval(eval_release, tmp_path / "results", fake_server, "refused", *args) == 0
    figures = _summary(tmp_path / "results", eval_release, "refused")["dimensions"][
        "instruction_following"
    ]
    assert figures["invalid"] == 1
    items = pl.read_parquet(tmp_path / "results" / eval_release.name / "refused" / "items.parquet")
    assert items.filter(~pl.col("parsed_ok"))["error"][0].startswith("request failed: HTTP 400")


def test_transient_failures_stop_the_evaluation_and_a_rerun_resumes(
    eval_release, fake_server, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RECRM_CONFIG", str(tmp_path / "recrm.toml"))
    (tmp_path / "recrm.toml").write_text("[llm]\nmax_retries = 0\nbudget_calls = 30\n")
    fake_server.responder = ScriptedJudge(eval_release)
    fake_server.inject("500")
    assert _eval(eval_release, tmp_path / "results", fake_server, "flaky") == 1
    err = capsys.readouterr().err
    assert "judge requests got no answer" in err and "rerun" in err
    assert not (tmp_path / "results" / eval_release.name).exists()
    first = fake_server.requests
    (tmp_path / "recrm.toml").write_text("[llm]\nmax_retries = 0\n")
    fake_server.reset_counts()
    assert _eval(eval_release, tmp_path / "results", fake_server, "flaky") == 0
    # Only what the first run did not get answered is asked again.
    assert fake_server.requests == 50 - (first - 1)


def test_the_api_key_is_sent_and_written_nowhere(eval_release, fake_server, tmp_path, monkeypatch):
    import shutil

    secret = "sk-eval-secret-never-written-0042"
    shutil.copy(Path(__file__).resolve().parents[3] / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RECRM_LLM_API_KEY", secret)
    fake_server.responder = ScriptedJudge(eval_release)
    args = ("--dimensions", "factual_consistency")
    assert _eval(eval_release, tmp_path / "results", fake_server, "keyed", *args) == 0
    assert set(fake_server.auth_headers) == {f"Bearer {secret}"}
    # Results, registry, response cache and the Dagster instance's storage: no key anywhere.
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "summary.json" for p in written) and any(
        ".dagster" in str(p) for p in written
    )
    for path in written:
        assert secret.encode() not in path.read_bytes(), path
