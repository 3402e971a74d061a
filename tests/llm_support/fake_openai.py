"""An OpenAI-protocol test server (stdlib http.server in a thread) that can misbehave on purpose.

openai 3.x sends requests through httpx2, which mocking libraries do not intercept, so the tests
and the throughput benchmark talk to this real HTTP server on 127.0.0.1. It answers
`POST /v1/chat/completions` with a JSON object that satisfies the request's `response_format`
schema (or what `responder` returns), after `latency` seconds, and can inject faults for the next
requests: `400` (not retryable), `429` (with Retry-After), `500`, `slow` (sleeps past the client timeout), `cut` (closes
the connection without an answer), `malformed` (a 200 whose body is not JSON) and `bad_content`
(valid HTTP, an answer that fails the schema). It counts every request and remembers each one;
`GET /stats` returns the counts and `GET /reset` zeroes them (for a server in another process:
`python tests/llm_support/fake_openai.py --latency 0.2 [--answer TEXT]` prints its base URL and
serves).

A `responder` returns the answer's text, or a dict {"content": text, "logprobs": [...]} whose
logprobs (OpenAI's `choices[0].logprobs.content` list; `logprobs_for` builds one) are sent when the
request asked for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FAULTS = ("400", "429", "500", "slow", "cut", "malformed", "bad_content")


def instance_of(schema: dict, root: dict | None = None) -> object:
    """A small valid instance of a JSON schema (the subset pydantic emits)."""
    root = root or schema
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return instance_of(root["$defs"][name], root)
    for combo in ("anyOf", "oneOf", "allOf"):
        if combo in schema:
            return instance_of(schema[combo][0], root)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = kind[0]
    if kind == "object":
        props = schema.get("properties", {})
        return {name: instance_of(sub, root) for name, sub in props.items()}
    if kind == "array":
        return [instance_of(schema["items"], root) for _ in range(schema.get("minItems", 0))]
    if kind == "integer":
        return int(schema.get("minimum", 0))
    if kind == "number":
        return float(schema.get("minimum", 0.5 if schema.get("maximum", 1) <= 1 else 0))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return "x" * schema.get("minLength", 1)


def logprobs_for(tokens: list[str], alternatives: dict[int, dict[str, float]]) -> list[dict]:
    """OpenAI's logprobs content for an answer split into `tokens`: token i gets the log-probability
    of its own entry in alternatives[i] (0 if absent) and those alternatives as top_logprobs."""
    content = []
    for i, token in enumerate(tokens):
        alts = alternatives.get(i, {})
        own = alts.get(token, 0.0)
        top = [{"token": t, "logprob": lp, "bytes": list(t.encode())} for t, lp in alts.items()]
        content.append(
            {"token": token, "logprob": own, "bytes": list(token.encode()), "top_logprobs": top}
        )
    return content


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512  # the listen backlog: 32+ clients connect at once


class FakeOpenAIServer:
    def __init__(self, latency: float = 0.0, slow_seconds: float = 3.0, retry_after: str = "0"):
        self.latency = latency
        self.slow_seconds = slow_seconds
        self.retry_after = retry_after
        self.faults: deque[str] = deque()
        self.responder: Callable[[dict], str | dict] | None = None
        self.extra_headers: dict[str, str] = {}
        self.counts: Counter[str] = Counter()
        self.bodies: list[dict] = []
        self.auth_headers: list[str] = []
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # -- control ---------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def requests(self) -> int:
        return self.counts["total"]

    def inject(self, *faults: str) -> None:
        unknown = set(faults) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown faults {unknown}; known: {FAULTS}")
        self.faults.extend(faults)

    def reset_counts(self) -> None:
        with self._lock:
            self.counts.clear()
            self.bodies.clear()
            self.auth_headers.clear()

    def __enter__(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- serving ---------------------------------------------------------------------------------
    def _next_fault(self) -> str | None:
        with self._lock:
            return self.faults.popleft() if self.faults else None

    def _answer(self, body: dict) -> str | dict:
        if self.responder is not None:
            return self.responder(body)
        fmt = body.get("response_format") or {}
        schema = fmt.get("schema") or (fmt.get("json_schema") or {}).get("schema")
        return json.dumps(instance_of(schema)) if schema else "ok"

    def _record(self, body: dict, authorization: str) -> str | None:
        """Count the request and pick its fault (None: a normal answer)."""
        fault = self._next_fault()
        with self._lock:
            self.counts["total"] += 1
            self.counts[fault or "ok"] += 1
            self.bodies.append(body)
            self.auth_headers.append(authorization)
        return fault

    def _reply(self, body: dict, fault: str | None) -> tuple[int, bytes, dict]:
        """(status, payload, extra headers) of the answer to a chat request."""
        if fault == "429":
            error = {"error": {"message": "rate limited", "type": "rate_limit"}}
            return 429, json.dumps(error).encode(), {"retry-after": self.retry_after}
        if fault == "500":
            return 500, b'{"error": {"message": "boom"}}', {}
        if fault == "400":
            return 400, b'{"error": {"message": "bad request", "type": "invalid_request"}}', {}
        if fault == "malformed":
            return 200, b'{"id": "x", "choices": [ {"mess', {}
        content = '{"not": "what the schema asks' if fault == "bad_content" else self._answer(body)
        logprobs = None
        if isinstance(content, dict):
            content, logprobs = content["content"], content.get("logprobs")
        choice = {
            "index": 0,
            "message": {"role": "assistant", "content": content},
            "finish_reason": "stop",
        }
        if logprobs is not None and body.get("logprobs"):
            choice["logprobs"] = {"content": logprobs}
        prompt_tokens = sum(len(m.get("content") or "") for m in body["messages"]) // 4
        payload = {
            "id": f"chatcmpl-{self.requests}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": [choice],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": len(content) // 4 + 1,
                "total_tokens": prompt_tokens + len(content) // 4 + 1,
            },
        }
        return 200, json.dumps(payload).encode(), dict(self.extra_headers)

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def _send(self, status: int, payload: bytes, headers: dict | None = None) -> None:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                    self.close_connection = True

            def do_GET(self) -> None:  # noqa: N802
                """`/stats`: the request counts as JSON; `/reset`: zero them."""
                if self.path.endswith("/reset"):
                    server.reset_counts()
                self._send(200, json.dumps(dict(server.counts)).encode())

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                fault = server._record(body, self.headers.get("authorization", ""))
                if server.latency:
                    time.sleep(server.latency)
                if fault == "slow":
                    time.sleep(server.slow_seconds)
                if fault == "cut":
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                self._send(*server._reply(body, fault))

        return Handler


async def serve_asyncio(server: FakeOpenAIServer, port: int = 0) -> None:
    """The same server on one asyncio event loop (no thread per connection): for throughput runs
    in a process of its own. Prints its base URL, then serves until the process is stopped."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {
                    k.strip().lower(): v.strip()
                    for k, v in (line.split(":", 1) for line in lines[1:] if ":" in line)
                }
                raw = await reader.readexactly(int(headers.get("content-length", 0)))
                if method == "GET":
                    if path.endswith("/reset"):
                        server.reset_counts()
                    status, payload, extra = 200, json.dumps(dict(server.counts)).encode(), {}
                else:
                    body = json.loads(raw or b"{}")
                    fault = server._record(body, headers.get("authorization", ""))
                    await asyncio.sleep(
                        server.latency + (server.slow_seconds if fault == "slow" else 0)
                    )
                    if fault == "cut":
                        break
                    status, payload, extra = server._reply(body, fault)
                out = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}"]
                out += ["content-type: application/json", f"content-length: {len(payload)}"]
                out += [f"{k}: {v}" for k, v in extra.items()]
                writer.write(("\r\n".join(out) + "\r\n\r\n").encode() + payload)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    listener = await asyncio.start_server(handle, "127.0.0.1", port, backlog=512)
    host, bound = listener.sockets[0].getsockname()[:2]
    print(f"http://{host}:{bound}/v1", flush=True)
    async with listener:
        await listener.serve_forever()


def main(argv: list[str] | None = None) -> int:
    """Serve in a process of its own (the benchmark: no GIL shared with the client)."""
    import argparse

    parser = argparse.ArgumentParser(description="OpenAI-protocol test server")
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--answer", help="answer every request with this text")
    args = parser.parse_args(argv)
    server = FakeOpenAIServer(latency=args.latency)  # its threaded front is never started
    if args.answer is not None:
        server.responder = lambda body: args.answer
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_asyncio(server))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
