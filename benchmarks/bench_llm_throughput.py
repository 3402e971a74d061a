"""Labeling throughput of the LLM layer against an endpoint with a fixed latency.

The real labeling path (`assets.llm.judged.judge_entries`: prompt rendering, the openai client,
the warehouse cache written as answers arrive, validation, policy merge) runs against the
OpenAI-protocol test server (tests/llm_support/fake_openai.py, in a process of its own) answering
every call after a fixed 200 ms, at concurrency 1, 8 and 32. The ideal is concurrency / latency requests per second; the
goal is >= 90% of it at 32.

    .venv/bin/python benchmarks/bench_llm_throughput.py
    .venv/bin/python benchmarks/bench_llm_throughput.py --latency 0.2 --concurrency 1 8 32 64
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import polars as pl
import pyarrow as pa

from assets.llm.judged import judge_entries, judge_requests
from core.llm.cache import ResponseCache
from core.llm.client import LLMClient
from core.llm.config import LLMConfig
from core.warehouse import Warehouse
from schemas.entries import entry_schema

SERVER = Path(__file__).resolve().parents[1] / "tests" / "llm_support" / "fake_openai.py"


class ServerProcess:
    """The test server in a process of its own, so it shares no GIL with the client."""

    def __init__(self, base_url: str, latency: float):
        self.base_url = base_url
        self.latency = latency

    def _get(self, path: str) -> dict:
        root = self.base_url.rsplit("/v1", 1)[0]
        with urllib.request.urlopen(root + path, timeout=10) as resp:
            return json.loads(resp.read())

    def reset_counts(self) -> None:
        self._get("/reset")

    @property
    def requests(self) -> int:
        return int(self._get("/stats").get("total", 0))


@contextmanager
def server_process(latency: float):
    proc = subprocess.Popen(
        [sys.executable, str(SERVER), "--latency", str(latency)], stdout=subprocess.PIPE, text=True
    )
    try:
        yield ServerProcess(proc.stdout.readline().strip(), latency)
    finally:
        proc.terminate()
        proc.wait(10)


def relevance_entries(n: int, salt: str) -> pl.DataFrame:
    """n heuristic query-item entries (distinct prompts, so none is answered from the cache)."""
    dim = "query_item_relevance"
    rows = [
        {
            "entry_id": f"{salt}-{i}",
            "dimension": dim,
            "domain": "bench",
            "split": "train",
            "prompt": "p",
            "answer": "<answer>1</answer>",
            "label_source": "heuristic",
            "label_confidence": 0.6,
            "provenance": None,
            "query": f"spicy noodles near me {salt} {i}",
            "item": {
                "item_id": f"i{i}",
                "title": f"Beef Noodles No. {i}",
                "category": "noodles",
                "tags": ["spicy", "halal"],
                "price": 12.5,
                "rating": 4.6,
                "description": "hand-pulled noodles in beef broth",
                "attributes": "{}",
            },
            "label": 1,
        }
        for i in range(n)
    ]
    return pl.from_arrow(pa.Table.from_pylist(rows, schema=entry_schema(dim)))


def measure(server: ServerProcess, concurrency: int, n: int, folder: Path) -> dict:
    run = f"c{concurrency}-{time.time_ns()}"
    wh = Warehouse(folder / f"bench_{run}.duckdb")
    config = LLMConfig(base_url=server.base_url, model="bench", concurrency=concurrency)
    client = LLMClient(config, ResponseCache(wh))
    entries = relevance_entries(n, run)
    server.reset_counts()
    start, cpu_start = time.perf_counter(), time.process_time()
    out = judge_entries("query_item_relevance", entries, client, scope="bench")
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    requests = judge_requests("query_item_relevance", entries)[0]
    cached = len(ResponseCache(wh).lookup([client.key_for(r) for r in requests]))
    assert out.usage.calls == n == server.requests == cached, (out.usage, server.requests, cached)
    # The same labeling again: answered from the cache, no call; its time is the fixed cost of a
    # labeling run (lookup, rendering, merge), which the timed run above includes.
    start = time.perf_counter()
    again = judge_entries("query_item_relevance", entries, client, scope="bench")
    rerun = time.perf_counter() - start
    assert again.usage.calls == 0 and again.usage.cached_calls == n == server.requests
    ideal = concurrency / server.latency
    rate = n / elapsed
    return {
        "concurrency": concurrency,
        "requests": n,
        "seconds": elapsed,
        "rate": rate,
        "ideal": ideal,
        "share": rate / ideal,
        "cpu_ms": cpu * 1000 / n,  # client process CPU per request (all threads)
        "rerun": rerun,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2, help="server latency, seconds")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument(
        "--seconds",
        type=float,
        default=12.0,
        help="ideal duration of each run (steady state: the ~0.3 s fixed cost of a run amortized)",
    )
    args = parser.parse_args(argv)
    results = []
    with server_process(args.latency) as server, tempfile.TemporaryDirectory() as tmp:
        # Warm up imports, the HTTP stack and DuckDB outside the measurement.
        measure(server, 4, 8, Path(tmp))
        for c in args.concurrency:
            n = max(10, round(args.seconds * c / args.latency))
            results.append(measure(server, c, n, Path(tmp)))
    print(f"labeling throughput, server latency {args.latency * 1000:.0f} ms")
    print(
        f"{'concurrency':>11} {'requests':>8} {'seconds':>8} {'req/s':>8} {'ideal':>8} "
        f"{'of ideal':>9} {'client CPU/req':>15} {'cached re-run':>14}"
    )
    for r in results:
        print(
            f"{r['concurrency']:>11} {r['requests']:>8} {r['seconds']:>8.2f} {r['rate']:>8.1f} "
            f"{r['ideal']:>8.1f} {r['share'] * 100:>8.1f}% {r['cpu_ms']:>12.2f} ms "
            f"{r['rerun']:>12.2f} s"
        )
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    top = max(results, key=lambda r: r["concurrency"])
    goal = top["share"] >= 0.9
    print(f"goal (>= 90% of ideal at {top['concurrency']}): {'met' if goal else 'NOT met'}")
    return 0 if goal else 1


if __name__ == "__main__":
    raise SystemExit(main())
