"""An OpenAI-protocol test server (stdlib http.server in a thread) that can misbehave on purpose.

openai 3.x sends requests through httpx2, which mocking libraries do not intercept, so the tests
and the throughput benchmark talk to this real HTTP server on 127.0.0.1. It answers
`POST /v1/chat/completions` with a JSON object that satisfies the request's `response_format`
schema (or what `responder` returns), after `latency` seconds, and can inject faults for the next
requests: `429` (with Retry-After), `500`, `slow` (sleeps past the client timeout), `cut` (closes
the connection without an answer), `malformed` (a 200 whose body is not JSON) and `bad_content`
(valid HTTP, an answer that fails the schema). It counts every request and remembers each one.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FAULTS = ("429", "500", "slow", "cut", "malformed", "bad_content")


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


class FakeOpenAIServer:
    def __init__(self, latency: float = 0.0, slow_seconds: float = 3.0, retry_after: str = "0"):
        self.latency = latency
        self.slow_seconds = slow_seconds
        self.retry_after = retry_after
        self.faults: deque[str] = deque()
        self.responder: Callable[[dict], str] | None = None
        self.extra_headers: dict[str, str] = {}
        self.counts: Counter[str] = Counter()
        self.bodies: list[dict] = []
        self.auth_headers: list[str] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._server.request_queue_size = 256
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

    def _answer(self, body: dict) -> str:
        if self.responder is not None:
            return self.responder(body)
        fmt = body.get("response_format") or {}
        schema = fmt.get("schema") or (fmt.get("json_schema") or {}).get("schema")
        return json.dumps(instance_of(schema)) if schema else "ok"

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

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                fault = server._next_fault()
                with server._lock:
                    server.counts["total"] += 1
                    server.counts[fault or "ok"] += 1
                    server.bodies.append(body)
                    server.auth_headers.append(self.headers.get("authorization", ""))
                if server.latency:
                    time.sleep(server.latency)
                if fault == "429":
                    error = {"error": {"message": "rate limited", "type": "rate_limit"}}
                    self._send(429, json.dumps(error).encode(), {"retry-after": server.retry_after})
                    return
                if fault == "500":
                    self._send(500, b'{"error": {"message": "boom"}}')
                    return
                if fault == "slow":
                    time.sleep(server.slow_seconds)
                if fault == "cut":
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                if fault == "malformed":
                    self._send(200, b'{"id": "x", "choices": [ {"mess')
                    return
                content = '{"not": "what the schema asks' if fault == "bad_content" else None
                if content is None:
                    content = server._answer(body)
                prompt_tokens = sum(len(m.get("content") or "") for m in body["messages"]) // 4
                payload = {
                    "id": f"chatcmpl-{server.requests}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body.get("model", "fake"),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": content},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {
                        "prompt_tokens": prompt_tokens,
                        "completion_tokens": len(content) // 4 + 1,
                        "total_tokens": prompt_tokens + len(content) // 4 + 1,
                    },
                }
                self._send(200, json.dumps(payload).encode(), dict(server.extra_headers))

        return Handler
