import asyncio
import time

import pytest
from pydantic import BaseModel, Field

from core.llm.cache import FAILURES_TABLE, ResponseCache
from core.llm.client import BUDGET, CACHED, FAILED, OK, LLMClient, LLMRequest
from core.llm.config import LLMConfig
from core.warehouse import Warehouse


class Verdict(BaseModel):
    label: int = Field(ge=0, le=3)
    confidence: float = Field(ge=0, le=1)


def _requests(n: int, tag: str = "q") -> list[LLMRequest]:
    return [LLMRequest.chat("judge", f"{tag} {i}", "judge_test.v1:abc", Verdict) for i in range(n)]


def _client(server, tmp_path, **cfg) -> LLMClient:
    config = LLMConfig(
        **(
            {
                "base_url": server.base_url,
                "model": "fake",
                "backoff_base": 0.01,
                "backoff_max": 0.05,
            }
            | cfg
        )
    )
    return LLMClient(config, ResponseCache(Warehouse(tmp_path / "wh.duckdb")))


def test_answers_validate_and_a_rerun_is_free(fake_server, tmp_path):
    client = _client(fake_server, tmp_path)
    results, usage = client.run(_requests(5))
    assert [r.status for r in results] == [OK] * 5
    assert all(isinstance(r.value, Verdict) for r in results)
    assert (usage.calls, usage.cached_calls, fake_server.requests) == (5, 0, 5)
    assert usage.prompt_tokens > 0 and usage.completion_tokens > 0
    sent = fake_server.bodies[0]
    assert sent["response_format"]["type"] == "json_object"
    assert sent["response_format"]["schema"]["properties"]["label"]["maximum"] == 3

    again, usage2 = _client(fake_server, tmp_path).run(_requests(5))
    assert fake_server.requests == 5  # nothing new reached the server
    assert [r.status for r in again] == [CACHED] * 5
    assert (usage2.calls, usage2.cached_calls) == (0, 5)
    assert [r.value for r in again] == [r.value for r in results]


def test_identical_requests_in_a_batch_are_asked_once(fake_server, tmp_path):
    results, usage = _client(fake_server, tmp_path).run(_requests(1) * 3)
    assert fake_server.requests == 1 and usage.calls == 1
    assert len({r.key for r in results}) == 1


def test_the_cache_key_follows_model_params_and_template(fake_server, tmp_path):
    base = _client(fake_server, tmp_path)
    req = _requests(1)[0]
    other_template = LLMRequest(req.messages, "judge_test.v2:def", Verdict)
    keys = {
        base.key_for(req),
        base.key_for(other_template),
        _client(fake_server, tmp_path, temperature=0.7).key_for(req),
        LLMClient(LLMConfig(base_url="http://x/v1", model="other")).key_for(req),
    }
    assert len(keys) == 4
    assert base.key_for(req) == _client(fake_server, tmp_path).key_for(req)


@pytest.mark.parametrize("fault", ["429", "500", "cut", "malformed"])
def test_transient_faults_are_retried_and_counted(fake_server, tmp_path, fault):
    fake_server.inject(fault, fault)
    results, usage = _client(fake_server, tmp_path, concurrency=1).run(_requests(2))
    assert [r.status for r in results] == [OK, OK]
    assert usage.retries == 2 and usage.calls == 2 and usage.failures == 0
    assert fake_server.counts[fault] == 2 and fake_server.requests == 4


def test_a_timeout_is_retried(fake_server, tmp_path):
    fake_server.slow_seconds = 1.0
    fake_server.inject("slow")
    results, usage = _client(fake_server, tmp_path, timeout=0.3, concurrency=1).run(_requests(1))
    assert results[0].status == OK and usage.retries == 1


def test_retry_after_pauses_every_sender(fake_server, tmp_path):
    fake_server.retry_after = "0.4"
    fake_server.inject("429")
    client = _client(fake_server, tmp_path, concurrency=1, backoff_max=1.0)
    start = time.monotonic()
    results, _ = client.run(_requests(1))
    assert results[0].status == OK and time.monotonic() - start >= 0.4


def test_exhausted_quota_headers_pause_the_next_request(fake_server, tmp_path):
    fake_server.extra_headers = {
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "300ms",
    }
    client = _client(fake_server, tmp_path, concurrency=1)
    start = time.monotonic()
    client.run(_requests(3))
    assert time.monotonic() - start >= 0.6


def test_requests_per_minute_spaces_the_calls(fake_server, tmp_path):
    client = _client(fake_server, tmp_path, requests_per_minute=300)  # 5/s, burst of 5
    start = time.monotonic()
    client.run(_requests(8))
    assert time.monotonic() - start >= 0.5


def test_an_invalid_answer_is_reasked_once(fake_server, tmp_path):
    fake_server.inject("bad_content")
    results, usage = _client(fake_server, tmp_path, concurrency=1).run(_requests(1))
    assert results[0].status == OK and usage.reasks == 1 and usage.calls == 2
    reask = fake_server.bodies[1]["messages"]
    assert reask[-2]["role"] == "assistant" and "not valid" in reask[-1]["content"]


def test_a_request_given_up_is_recorded_and_the_rest_go_on(fake_server, tmp_path):
    fake_server.inject("500", "500")
    client = _client(fake_server, tmp_path, concurrency=1, max_retries=1)
    results, usage = client.run(_requests(3))
    assert [r.status for r in results] == [FAILED, OK, OK]
    assert usage.failures == 1 and "HTTP 500" in results[0].error
    assert results[0].retryable  # given up on a transient fault: a later run may succeed
    rows = Warehouse(tmp_path / "wh.duckdb").query(f"SELECT key, error FROM {FAILURES_TABLE}")
    assert rows["key"].to_list() == [results[0].key]
    # The failure is not cached: the next run asks again.
    results2, usage2 = client.run(_requests(3))
    assert [r.status for r in results2] == [OK, CACHED, CACHED] and usage2.calls == 1


def test_schema_failure_after_reasks_is_a_failure(fake_server, tmp_path):
    fake_server.responder = lambda body: '{"label": 9, "confidence": 2}'
    results, usage = _client(fake_server, tmp_path, max_reasks=2).run(_requests(1))
    assert results[0].status == FAILED and usage.calls == 3 and usage.reasks == 2
    assert "label" in results[0].error


def test_a_budget_stop_then_a_rerun_makes_only_the_missing_calls(fake_server, tmp_path):
    results, usage = _client(fake_server, tmp_path, concurrency=1, budget_calls=4).run(
        _requests(10)
    )
    statuses = [r.status for r in results]
    assert statuses.count(OK) == 4 and statuses.count(BUDGET) == 6
    assert usage.budget_skipped == 6 and fake_server.requests == 4
    fake_server.reset_counts()
    results2, usage2 = _client(fake_server, tmp_path, concurrency=4).run(_requests(10))
    assert fake_server.requests == 6 and usage2.cached_calls == 4
    assert all(r.answered for r in results2)


def test_tokens_budget_stops_too(fake_server, tmp_path):
    results, usage = _client(fake_server, tmp_path, concurrency=1, budget_tokens=1).run(
        _requests(3)
    )
    assert [r.status for r in results] == [OK, BUDGET, BUDGET]


def test_a_cancelled_run_resumes_without_paying_twice(fake_server, tmp_path):
    fake_server.latency = 0.02
    client = _client(fake_server, tmp_path, concurrency=2)
    cache = client.cache
    requests = _requests(12)

    async def cancelled_run():
        task = asyncio.current_task()
        calls = 0

        def on_call():
            nonlocal calls
            calls += 1
            if calls == 5:
                task.cancel()

        await client.arun(requests, on_call=on_call)

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(cancelled_run())
    paid = len(cache.lookup([client.key_for(r) for r in requests]))
    assert paid >= 5
    fake_server.reset_counts()
    results, usage = _client(fake_server, tmp_path, concurrency=2).run(requests)
    assert fake_server.requests == 12 - paid == usage.calls
    assert usage.cached_calls == paid and all(r.answered for r in results)


def test_a_client_error_is_not_retried(fake_server, tmp_path):
    fake_server.inject("400")
    results, usage = _client(fake_server, tmp_path, concurrency=1).run(_requests(2))
    assert [r.status for r in results] == [FAILED, OK]
    assert "HTTP 400" in results[0].error and usage.retries == 0 and fake_server.requests == 2
    assert not results[0].retryable


def test_openai_structured_output_mode(fake_server, tmp_path):
    client = _client(fake_server, tmp_path, response_format="json_schema")
    results, _ = client.run(_requests(1))
    fmt = fake_server.bodies[0]["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["name"] == "Verdict"
    assert results[0].status == OK
    # The mode is part of the cache key: switching it asks again.
    assert client.key_for(_requests(1)[0]) != _client(fake_server, tmp_path).key_for(
        _requests(1)[0]
    )


def test_log_probabilities_are_asked_for_returned_and_cached(fake_server, tmp_path):
    from fake_openai import logprobs_for

    tokens = ["<answer>", "1", "</answer>"]
    fake_server.responder = lambda body: {
        "content": "".join(tokens),
        "logprobs": logprobs_for(tokens, {1: {"1": -0.1, "0": -2.4}}),
    }
    request = LLMRequest(messages=(("user", "rate it"),), template="eval_test:x", top_logprobs=5)
    results, usage = _client(fake_server, tmp_path).run([request])
    sent = fake_server.bodies[0]
    assert sent["logprobs"] is True and sent["top_logprobs"] == 5
    assert results[0].text == "<answer>1</answer>"
    assert results[0].logprobs[1] == ["1", -0.1, [["1", -0.1], ["0", -2.4]]]
    # From the cache the same log-probabilities come back, with no call.
    again, usage2 = _client(fake_server, tmp_path).run([request])
    assert again[0].status == CACHED and again[0].logprobs == results[0].logprobs
    assert usage2.calls == 0 and fake_server.requests == 1
    # Asking for log-probabilities is part of the key; a plain request is another one, and the
    # keys of requests that do not ask are unchanged by the option existing.
    plain = LLMRequest.chat(None, "rate it", "eval_test:x")
    client = _client(fake_server, tmp_path)
    assert client.key_for(plain) != client.key_for(request)
    results3, _ = client.run([plain])
    assert "logprobs" not in fake_server.bodies[-1] and results3[0].logprobs is None


def test_a_server_without_log_probabilities_gives_none(fake_server, tmp_path):
    fake_server.responder = lambda body: "<answer>1</answer>"
    request = LLMRequest(messages=(("user", "x"),), template="eval_test:x", top_logprobs=3)
    results, _ = _client(fake_server, tmp_path).run([request])
    assert results[0].status == OK and results[0].logprobs is None


def test_a_grammar_goes_in_the_body_and_the_key(fake_server, tmp_path):
    fake_server.responder = lambda body: "<answer>1</answer>"
    grammar = 'root ::= "<answer>" ("0" | "1") "</answer>"'
    constrained = LLMRequest(messages=(("user", "x"),), template="eval_test:x", grammar=grammar)
    free = LLMRequest(messages=(("user", "x"),), template="eval_test:x")
    client = _client(fake_server, tmp_path)
    assert client.key_for(constrained) != client.key_for(free)
    client.run([constrained, free])
    assert sorted(b.get("grammar", "") for b in fake_server.bodies) == ["", grammar]
