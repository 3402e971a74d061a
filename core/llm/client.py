"""The LLM client: cached, concurrent, rate-limited, retried, validated, budgeted, accounted.

`LLMClient.run(requests)` answers a batch of chat requests against any OpenAI-compatible endpoint:
- requests whose key is in the cache cost nothing; identical requests in a batch are asked once;
- up to `concurrency` requests are in flight; the rate limiter spaces them (configured limits and
  the server's `retry-after` / `x-ratelimit-*` headers);
- 429, 5xx, timeouts, cut connections and unreadable bodies are retried with exponential backoff
  and jitter (the openai client's own retries are off, so every attempt is counted here);
- an answer that fails its JSON schema is re-asked a bounded number of times;
- every answer is written to the cache as it arrives (small batches), so a killed run resumes;
- every request given up is recorded (key, error) in `llm_failures` and counted;
- when the budget is spent, no new call starts and the rest come back as `budget` (not an error);
- a request with `top_logprobs` asks for the answer's token log-probabilities (kept in the cache
  with the answer, returned as `LLMResult.logprobs`: [token, logprob, [[alternative, logprob]]]);
  one with `grammar` constrains the answer with a GBNF grammar (llama.cpp servers).
"""

from __future__ import annotations

import asyncio
import functools
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx2
import openai
from pydantic import BaseModel, ValidationError

from core.llm.cache import CacheWriter, ResponseCache, request_key
from core.llm.config import LLMConfig
from core.llm.ratelimit import RateLimiter, server_pause
from core.llm.usage import Budget, BudgetExhausted, Usage
from core.pii_detect import kinds as pii_kinds

OK, CACHED, FAILED, BUDGET = "ok", "cached", "failed", "budget"
_CACHE_FLUSH_SECONDS = 0.25
# A server-announced pause longer than this is treated as this (a broken header must not hang us).
MAX_SERVER_PAUSE = 300.0


@dataclass(frozen=True)
class LLMRequest:
    """One chat request. `template` names the prompt template version (`<ref>:<sha256>`);
    `output` is the pydantic model the answer must validate against (None: free text)."""

    messages: tuple[tuple[str, str], ...]  # (role, content)
    template: str
    output: type[BaseModel] | None = None
    # > 0: ask for the answer tokens' log-probabilities, with that many alternatives each
    top_logprobs: int = 0
    grammar: str | None = None  # a GBNF grammar the answer must follow (llama.cpp's `grammar`)

    @staticmethod
    def chat(
        system: str | None, user: str, template: str, output: type[BaseModel] | None = None
    ) -> LLMRequest:
        messages = ((("system", system),) if system else ()) + (("user", user),)
        return LLMRequest(messages=messages, template=template, output=output)


@dataclass
class LLMResult:
    key: str
    status: str  # ok | cached | failed | budget
    text: str | None = None
    value: BaseModel | None = None
    error: str | None = None
    logprobs: list | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # A failure a later run may not repeat (gave up on 429/5xx/timeouts) rather than one the
    # endpoint would repeat (a 4xx such as a prompt too long for the model).
    retryable: bool = False

    @property
    def answered(self) -> bool:
        return self.status in (OK, CACHED)


class InvalidOutput(Exception):
    """The answer did not validate against its schema, re-asks included."""


class RequestFailed(Exception):
    def __init__(self, message: str, attempts: int, retryable: bool = False):
        super().__init__(message)
        self.attempts = attempts
        self.retryable = retryable


class PersonalDataRefused(RequestFailed):
    """The request body holds personal data (by the independent detector): it is not sent."""


def personal_data_in(messages: list[dict]) -> list[str]:
    """`role: KIND` for each message holding personal data (`core.pii_detect`), empty if none.
    Every request body passes here before it leaves the process: text is masked on ingest, so a
    finding means the masking missed a form, and the endpoint must not see it."""
    found = []
    for m in messages:
        kinds = pii_kinds(m.get("content") if isinstance(m.get("content"), str) else None)
        if kinds:
            found.append(f"{m.get('role')}: {'/'.join(kinds)}")
    return found


@functools.cache
def output_schema(output: type[BaseModel] | None) -> dict | None:
    return None if output is None else output.model_json_schema()


@functools.cache
def _schema_contract(output: type[BaseModel]) -> str:
    return (
        "Reply with one JSON object and nothing else. It must match this JSON schema:\n"
        + json.dumps(output_schema(output), sort_keys=True, ensure_ascii=False)
    )


def _redact(text: str, secret: str) -> str:
    return text.replace(secret, "***") if secret and len(secret) >= 4 else text


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Exponential backoff with equal jitter: half the step fixed, half random."""
    step = min(cap, base * (2**attempt))
    return step / 2 + rng.uniform(0, step / 2)


# An answer whose body is not the expected JSON (cut short, garbled): retried like a 5xx.
_MALFORMED = ValueError | KeyError | IndexError | TypeError | AttributeError


def token_logprobs(choice: dict) -> list | None:
    """The OpenAI `choices[i].logprobs.content` list in compact form: one
    [token, logprob, [[alternative, logprob], ...]] per answer token; None when the server sent
    none (not every OpenAI-compatible server returns log-probabilities)."""
    content = (choice.get("logprobs") or {}).get("content")
    if not content:
        return None
    return [
        [
            t["token"],
            float(t["logprob"]),
            [[a["token"], float(a["logprob"])] for a in t.get("top_logprobs") or []],
        ]
        for t in content
    ]


def _retryable_status(status: int) -> bool:
    """429 and 408 (slow down / timed out) and 5xx are transient; other 4xx are not."""
    return status in (408, 429) or status >= 500


def _describe(exc: Exception) -> str:
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}: {type(exc).__name__}"
    return f"{type(exc).__name__}: {exc}"


@dataclass
class _Run:
    """State of one `run` call: counters, pending cache rows, failures."""

    scope: str
    writer: CacheWriter | None = None
    usage: Usage = field(default_factory=Usage)
    failures: list[dict] = field(default_factory=list)
    stopped: bool = False


class LLMClient:
    def __init__(
        self,
        config: LLMConfig,
        cache: ResponseCache | None = None,
        budget: Budget | None = None,
    ):
        if not config.enabled:
            raise ValueError("the LLM is off: set base_url (RECRM_LLM_BASE_URL) to use a client")
        self.config = config
        self.cache = cache
        self.budget = budget or Budget(config.budget_calls, config.budget_tokens)
        self.limiter = RateLimiter(config.requests_per_minute, config.tokens_per_minute)
        self._rng = random.Random(config.seed or 0)

    def __repr__(self) -> str:  # never the key
        return f"LLMClient(base_url={self.config.base_url!r}, model={self.config.model!r})"

    # -- request building ------------------------------------------------------------------------
    def _messages(self, request: LLMRequest) -> list[dict]:
        messages = [{"role": r, "content": c} for r, c in request.messages]
        if request.output is not None:
            messages.insert(0, {"role": "system", "content": _schema_contract(request.output)})
        return messages

    def _response_format(self, request: LLMRequest) -> dict | None:
        schema = output_schema(request.output)
        mode = self.config.response_format
        if schema is None or mode == "none":
            return None
        if mode == "json_object_schema":
            return {"type": "json_object", "schema": schema}
        if mode == "json_schema":
            name = request.output.__name__ if request.output else "output"
            return {"type": "json_schema", "json_schema": {"name": name, "schema": schema}}
        return {"type": "json_object"}

    def key_for(self, request: LLMRequest) -> str:
        params = self.config.sampling_params() | {"response_format": self.config.response_format}
        if request.top_logprobs:
            params["top_logprobs"] = request.top_logprobs
        if request.grammar:
            params["grammar"] = request.grammar
        return request_key(
            self.config.model,
            self._messages(request),
            params,
            request.template,
            output_schema(request.output),
        )

    # -- public API ------------------------------------------------------------------------------
    def run(
        self,
        requests: list[LLMRequest],
        scope: str = "",
        on_call: Callable[[], None] | None = None,
    ) -> tuple[list[LLMResult], Usage]:
        """Answer `requests` (results in the same order) and count what it cost."""
        return asyncio.run(self.arun(requests, scope, on_call))

    async def arun(
        self,
        requests: list[LLMRequest],
        scope: str = "",
        on_call: Callable[[], None] | None = None,
    ) -> tuple[list[LLMResult], Usage]:
        state = _Run(scope=scope)
        state.usage.requests = len(requests)
        keys = [self.key_for(r) for r in requests]
        by_key: dict[str, LLMResult] = {}
        cached = self.cache.lookup(keys) if self.cache else {}
        todo: dict[str, LLMRequest] = {}
        for key, request in zip(keys, requests, strict=True):
            if key in by_key or key in todo:
                continue
            hit = cached.get(key)
            value = self._parse(request, hit.response) if hit else None
            if hit is not None and (request.output is None or value is not None):
                logprobs = json.loads(hit.logprobs) if hit.logprobs else None
                by_key[key] = LLMResult(
                    key,
                    CACHED,
                    hit.response,
                    value,
                    logprobs=logprobs,
                    prompt_tokens=hit.prompt_tokens,
                    completion_tokens=hit.completion_tokens,
                )
            else:
                todo[key] = request
        state.usage.cached_calls = sum(
            1 for k in keys if k in by_key and by_key[k].status == CACHED
        )
        queue: asyncio.Queue[tuple[str, LLMRequest]] = asyncio.Queue()
        for item in todo.items():
            queue.put_nowait(item)
        client = openai.AsyncOpenAI(
            base_url=self.config.base_url,
            api_key=self.config.api_key.get_secret_value(),
            timeout=self.config.timeout,
            max_retries=0,
        )
        if self.cache and todo:
            state.writer = CacheWriter(
                self.cache, self.config.cache_flush_every, _CACHE_FLUSH_SECONDS
            )
        try:
            workers = [
                asyncio.create_task(self._worker(client, queue, by_key, state, on_call))
                for _ in range(min(self.config.concurrency, max(1, len(todo))))
            ]
            await asyncio.gather(*workers)
        finally:
            if state.writer is not None:
                state.writer.close()
            if self.cache and state.failures:
                self.cache.record_failures(state.failures)
                state.failures.clear()
            await client.close()
        results = [by_key[k] for k in keys]
        return results, state.usage

    # -- internals -------------------------------------------------------------------------------
    async def _worker(self, client, queue, by_key, state: _Run, on_call) -> None:
        while not queue.empty():
            key, request = queue.get_nowait()
            if state.stopped:
                by_key[key] = LLMResult(key, BUDGET, error="budget spent")
                state.usage.budget_skipped += 1
                continue
            try:
                text, value, tokens, logprobs = await self._ask(client, request, state, on_call)
            except BudgetExhausted as exc:
                state.stopped = True
                by_key[key] = LLMResult(key, BUDGET, error=str(exc))
                state.usage.budget_skipped += 1
                continue
            except (InvalidOutput, RequestFailed) as exc:
                error = _redact(str(exc), self.config.api_key.get_secret_value())
                by_key[key] = LLMResult(
                    key, FAILED, error=error, retryable=getattr(exc, "retryable", False)
                )
                state.usage.failures += 1
                state.failures.append(
                    {
                        "key": key,
                        "model": self.config.model,
                        "template": request.template,
                        "scope": state.scope,
                        "error": error,
                        "attempts": getattr(exc, "attempts", None),
                    }
                )
                continue
            by_key[key] = LLMResult(
                key,
                OK,
                text,
                value,
                logprobs=logprobs,
                prompt_tokens=tokens[0],
                completion_tokens=tokens[1],
            )
            if state.writer is not None:
                state.writer.put(
                    {
                        "key": key,
                        "model": self.config.model,
                        "template": request.template,
                        "response": text,
                        "prompt_tokens": tokens[0],
                        "completion_tokens": tokens[1],
                        "logprobs": None if logprobs is None else json.dumps(logprobs),
                    }
                )

    def _parse(self, request: LLMRequest, text: str | None) -> BaseModel | None:
        if request.output is None or text is None:
            return None
        try:
            return request.output.model_validate_json(text)
        except ValidationError:
            return None

    async def _ask(self, client, request: LLMRequest, state: _Run, on_call):
        """Call, validate, re-ask on a schema failure; returns (text, value, (p_tok, c_tok),
        logprobs)."""
        messages = self._messages(request)
        prompt_total = completion_total = 0
        error = ""
        for reask in range(self.config.max_reasks + 1):
            text, prompt_tokens, completion_tokens, logprobs = await self._call(
                client, messages, request, state, on_call
            )
            prompt_total += prompt_tokens
            completion_total += completion_tokens
            tokens = (prompt_total, completion_total)
            if request.output is None:
                return text, None, tokens, logprobs
            try:
                return text, request.output.model_validate_json(text), tokens, logprobs
            except ValidationError as exc:
                error = "; ".join(
                    f"{'.'.join(map(str, e['loc'])) or 'answer'}: {e['msg']}" for e in exc.errors()
                )[:500]
            if reask < self.config.max_reasks:
                state.usage.reasks += 1
                messages = [
                    *messages,
                    {"role": "assistant", "content": text},
                    {
                        "role": "user",
                        "content": f"That answer is not valid ({error}). Reply again with only "
                        "the JSON object the schema describes.",
                    },
                ]
        raise InvalidOutput(
            f"answer failed its schema after {self.config.max_reasks} re-asks: {error}"
        )

    async def _call(self, client, messages, request: LLMRequest, state: _Run, on_call):
        """One answered HTTP call, retrying transient failures; returns (text, p_tok, c_tok,
        logprobs)."""
        cfg = self.config
        leaks = personal_data_in(messages)
        if leaks:
            raise PersonalDataRefused(
                "request not sent: its body holds personal data (" + "; ".join(leaks) + ")",
                0,
                retryable=False,
            )
        estimate = sum(len(m["content"]) for m in messages) // 4 + cfg.max_tokens
        body = {
            "model": cfg.model,
            "messages": messages,
            "temperature": cfg.temperature,
            "max_tokens": cfg.max_tokens,
        }
        if cfg.seed is not None:
            body["seed"] = cfg.seed
        if request.top_logprobs:
            body["logprobs"] = True
            body["top_logprobs"] = request.top_logprobs
        if request.grammar:
            body["grammar"] = request.grammar
        response_format = self._response_format(request)
        if response_format is not None:
            body["response_format"] = response_format
        last_error = ""
        for attempt in range(cfg.max_retries + 1):
            await self.limiter.acquire(estimate)
            self.budget.reserve_call()
            try:
                # The client's raw POST (its documented way to call any endpoint): the typed
                # `chat.completions.create` walks every message and the whole schema, and builds a
                # pydantic model per answer, which halves throughput at high concurrency; status
                # errors, timeouts and connection errors are raised the same way.
                raw = await client.post("/chat/completions", body=body, cast_to=httpx2.Response)
                answer = json.loads(raw.content)
                text = answer["choices"][0]["message"]["content"]
                if not isinstance(text, str):
                    raise ValueError("the answer has no text content")
                usage = answer.get("usage") or {}
                prompt_tokens = int(usage.get("prompt_tokens") or 0)
                completion_tokens = int(usage.get("completion_tokens") or 0)
                logprobs = token_logprobs(answer["choices"][0]) if request.top_logprobs else None
            except Exception as exc:
                self.budget.release_call()
                if not isinstance(exc, _MALFORMED | openai.OpenAIError):
                    raise
                last_error = _describe(exc)
                if isinstance(exc, openai.APIStatusError) and not _retryable_status(
                    exc.status_code
                ):
                    raise RequestFailed(last_error, attempt + 1, retryable=False) from None
                if attempt == cfg.max_retries:
                    break
                state.usage.retries += 1
                headers = exc.response.headers if isinstance(exc, openai.APIStatusError) else {}
                wait = server_pause(headers, getattr(exc, "status_code", None))
                wait = min(wait or 0.0, MAX_SERVER_PAUSE)
                if wait and isinstance(exc, openai.RateLimitError):
                    self.limiter.pause(wait)
                delay = backoff_delay(attempt, cfg.backoff_base, cfg.backoff_max, self._rng)
                await asyncio.sleep(max(delay, wait))
                continue
            pause = server_pause(raw.headers)
            if pause:
                self.limiter.pause(min(pause, MAX_SERVER_PAUSE))
            self.budget.spend_tokens(prompt_tokens + completion_tokens)
            state.usage.calls += 1
            state.usage.prompt_tokens += prompt_tokens
            state.usage.completion_tokens += completion_tokens
            if on_call:
                on_call()
            return text, prompt_tokens, completion_tokens, logprobs
        raise RequestFailed(
            f"gave up after {cfg.max_retries + 1} attempts: {last_error}",
            cfg.max_retries + 1,
            retryable=True,
        )
