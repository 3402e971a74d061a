"""Evaluation speed: the LLM judge's throughput, and scoring a million behaviour predictions.

1. Judge throughput. The real judge path (assets.evaluation.judge: one request per released
   prompt through the project's LLM client, the cache written as answers arrive, answers parsed
   with their log-probabilities) against the OpenAI-protocol test server in a process of its own
   (tests/llm_support/fake_openai.py, asyncio front) answering every call after a fixed 200 ms, at
   concurrency 8 and 32; each run pays for every request (fresh cache). The ideal is
   concurrency / latency requests per second; the goal is >= 90% of it at 32. A whole
   `evaluate()` of the same entries (release check, reading, scoring, summary with 1,000 bootstrap
   resamples, files) is timed beside it, fresh cache too.
2. One million behaviour predictions. A synthetic release whose behaviour test split holds
   1,000,000 entries (20,000 users; the other dimensions small) and a Parquet predictions file
   (entry_id, label, score) for all of them; `recrm eval --predictions` runs in a child process:
   wall time and peak memory (max RSS, wait4). The same evaluation in process prints where the
   time goes.

    .venv/bin/python benchmarks/bench_eval.py
    .venv/bin/python benchmarks/bench_eval.py --skip-judge --entries 1000000
"""

from __future__ import annotations

import os as _os

# Synthetic logs: building them with the public development hash key is fine (issue 17).
_os.environ.setdefault("RECRM_ALLOW_DEV_KEY", "1")

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from bench_llm_throughput import ServerProcess  # noqa: E402

from assets.evaluation.judge import JudgeScorer  # noqa: E402
from assets.evaluation.release import open_release, read_entries  # noqa: E402
from assets.evaluation.run import evaluate  # noqa: E402
from assets.evaluation.spec import EvalSpec, ScorerSpec  # noqa: E402
from assets.release.publish import publish_release  # noqa: E402
from core.llm.config import LLMConfig  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.warehouse import Warehouse  # noqa: E402
from schemas.entries import DIMENSIONS, entry_schema  # noqa: E402

SERVER = REPO / "tests" / "llm_support" / "fake_openai.py"
_spec = importlib.util.spec_from_file_location(
    "benchmark_fixture", REPO / "tests" / "assets" / "release" / "benchmark_fixture.py"
)
benchmark_fixture = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(benchmark_fixture)

BEHAVIOUR = "behavior_prediction"


def behaviour_sql(n_test: int, n_train: int, users: int) -> str:
    """n_train + n_test behaviour entries: levels 0/1/2 at about 90/7.5/2.5%, short prompts, a
    candidate item each (the columns an evaluation of predictions reads, plus some payload)."""
    total = n_test + n_train
    return f"""
        SELECT
            'bp' || lpad(CAST(i AS VARCHAR), 10, '0') AS entry_id,
            '{BEHAVIOUR}' AS dimension,
            'food_delivery' AS domain,
            CASE WHEN i < {n_train} THEN 'train' ELSE 'test' END AS split,
            'Case ' || i || '. Give the level alone in the form <answer>0</answer>.' AS prompt,
            '<answer>' || label || '</answer>' AS answer,
            'log' AS label_source,
            NULL::DOUBLE AS label_confidence,
            struct_pack(
                user_id_hash := 'u' || lpad(CAST(i % {users} AS VARCHAR), 19, '0'),
                request_id := 'r' || i, source_row_ids := ['impressions:' || i],
                log_fingerprint := 'f', builder_version := 'bench', template_id := 't',
                template_hash := 'h', judge_model := NULL::VARCHAR, operator := NULL::VARCHAR
            ) AS provenance,
            NULL AS "user", NULL AS history, NULL AS context,
            struct_pack(
                item_id := 'it' || (i * 7919 % 5000), title := 'Noodle house ' || (i % 5000),
                category := 'noodles', tags := ['spicy'], price := 20.0 + i % 50,
                rating := 4.0, description := 'Hand-pulled noodles.', attributes := '{{}}'
            ) AS candidate,
            CAST(label AS TINYINT) AS label
        FROM (
            SELECT i, CASE WHEN u < 0.9 THEN 0 WHEN u < 0.975 THEN 1 ELSE 2 END AS label
            FROM (SELECT i, hash(i, 'bench') % 1000000 / 1000000.0 AS u FROM range({total}) t(i))
        )
    """


def build_release(root: Path, n_behaviour: int, users: int) -> Path:
    """A release with `n_behaviour` behaviour test entries (and the fixture's other dimensions)."""
    warehouse = Warehouse(root / "wh.duckdb")
    for dim in DIMENSIONS:
        if dim != BEHAVIOUR:
            benchmark_fixture.write_benchmark(
                warehouse, dim, benchmark_fixture.make_entries(dim, 60)
            )
    nullable = entry_schema(BEHAVIOUR)
    with warehouse.connect() as con:
        con.register("_empty", nullable.empty_table())
        con.execute("CREATE OR REPLACE TABLE benchmark_behavior_prediction AS SELECT * FROM _empty")
        con.execute(
            "INSERT INTO benchmark_behavior_prediction BY NAME "
            + behaviour_sql(n_behaviour, 20_000, users)
        )
    benchmark_fixture.write_inputs(warehouse)
    settings = Settings(
        releases_dir=root / "releases",
        warehouse_path=root / "wh.duckdb",
        release_shard_rows=250_000,
    )
    return publish_release(warehouse, settings, code={"package": "bench"}).path


# -- 1. judge throughput --------------------------------------------------------------------------
def judge_run(server: ServerProcess, release: Path, concurrency: int, n: int, folder: Path) -> dict:
    entries = read_entries(open_release(release), BEHAVIOUR, "test", ("prompt",), limit=n, seed=1)
    # Distinct prompts per run: nothing comes from an earlier run's cache.
    tag = f"c{concurrency}-{time.time_ns()}"
    entries = entries.with_columns(prompt=pl.col("prompt") + f" [{tag}]")
    config = LLMConfig(base_url=server.base_url, model="bench", concurrency=concurrency, seed=0)
    judge = JudgeScorer(config, folder / f"cache-{tag}.duckdb")
    server.reset_counts()
    start, cpu = time.perf_counter(), time.process_time()
    scored, usage = judge.score({BEHAVIOUR: entries})
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    assert usage.calls == n == server.requests, (usage, server.requests)
    assert scored[BEHAVIOUR]["parsed_ok"].all()
    assert (scored[BEHAVIOUR]["score_source"] == "label").all()
    ideal = concurrency / server.latency
    return {
        "concurrency": concurrency,
        "requests": n,
        "seconds": elapsed,
        "rate": n / elapsed,
        "ideal": ideal,
        "share": n / elapsed / ideal,
        "cpu_ms": cpu * 1000 / n,
    }


def judge_evaluate(server: ServerProcess, release: Path, concurrency: int, n: int, folder: Path):
    """A whole evaluate() of n behaviour entries by the judge (fresh cache folder)."""
    results = folder / f"results-{time.time_ns()}"
    config = LLMConfig(
        base_url=server.base_url, model="bench-eval", concurrency=concurrency, seed=0
    )
    spec = EvalSpec(
        name="judge",
        release=str(release),
        scorer=ScorerSpec(kind="judge", judge=config.public_dict(), logprobs=True),
        dimensions=(BEHAVIOUR,),
        limit=n,
    )
    server.reset_counts()
    start = time.perf_counter()
    out = evaluate(spec, results)
    elapsed = time.perf_counter() - start
    assert out.summary["llm_usage"]["calls"] == n == server.requests
    return elapsed


def bench_judge(args, release: Path, folder: Path) -> bool:
    proc = subprocess.Popen(
        [
            sys.executable,
            str(SERVER),
            "--latency",
            str(args.latency),
            "--answer",
            "<answer>0</answer>",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        server = ServerProcess(proc.stdout.readline().strip(), args.latency)
        judge_run(server, release, 4, 16, folder)  # warm up imports, HTTP stack, DuckDB
        rows = []
        for c in args.concurrency:
            n = max(10, round(args.seconds * c / args.latency))
            rows.append(judge_run(server, release, c, n, folder))
        top = max(args.concurrency)
        n_top = max(10, round(args.seconds * top / args.latency))
        whole = judge_evaluate(server, release, top, n_top, folder)
    finally:
        proc.terminate()
        proc.wait(10)
    print(f"\njudge throughput, server latency {args.latency * 1000:.0f} ms")
    print(
        f"{'concurrency':>11} {'requests':>8} {'seconds':>8} {'req/s':>8} {'ideal':>8} {'of ideal':>9} {'client CPU/req':>15}"
    )
    for r in rows:
        print(
            f"{r['concurrency']:>11} {r['requests']:>8} {r['seconds']:>8.2f} {r['rate']:>8.1f} "
            f"{r['ideal']:>8.1f} {r['share'] * 100:>8.1f}% {r['cpu_ms']:>12.2f} ms"
        )
    ideal_s = n_top * args.latency / top
    print(
        f"whole evaluate() of {n_top} entries at {top}: {whole:.2f} s (ideal calls alone "
        f"{ideal_s:.2f} s: {ideal_s / whole * 100:.1f}%)"
    )
    best = max(rows, key=lambda r: r["concurrency"])
    met = best["share"] >= 0.9
    print(f"goal (>= 90% of ideal at {best['concurrency']}): {'met' if met else 'NOT met'}")
    return met


# -- 2. one million behaviour predictions ---------------------------------------------------------
def write_predictions(release: Path, path: Path) -> int:
    gold = pl.read_parquet(release / BEHAVIOUR / "test-*.parquet", columns=["entry_id", "label"])
    rng = np.random.default_rng(0)
    n = gold.height
    right = rng.random(n) < 0.8
    label = np.where(right, gold["label"].to_numpy(), rng.integers(0, 3, n)).astype(np.int8)
    score = np.clip(0.3 * (gold["label"].to_numpy() >= 1) + rng.random(n) * 0.7, 0, 1)
    pl.DataFrame({"entry_id": gold["entry_id"], "label": label, "score": score}).sample(
        fraction=1.0, shuffle=True, seed=1
    ).write_parquet(path)
    return n


def run_child(cmd: list[str], cwd: Path) -> tuple[float, int, int, str]:
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    output = proc.stdout.read()
    return elapsed, usage.ru_maxrss * 1024, os.waitstatus_to_exitcode(status), output


def profile_in_process(release: Path, predictions: Path) -> list[tuple[str, float]]:
    """Where the time goes: the evaluation's steps, called one by one."""
    from assets.evaluation.bootstrap import intervals
    from assets.evaluation.predictions import (
        match_entries,
        read_predictions_file,
        scored_for_dimension,
    )
    from assets.evaluation.release import entry_ids, gold_items
    from assets.scoring.metrics import DimensionStats
    from assets.scoring.scored import to_items

    steps = []

    def step(name, fn):
        start = time.perf_counter()
        value = fn()
        steps.append((name, time.perf_counter() - start))
        return value

    rel = step(
        "open release (recrm validate's checks, shard sha256)", lambda: open_release(release)
    )
    frame = step("read the predictions file", lambda: read_predictions_file(predictions))
    ids = step("read every entry id of the split", lambda: entry_ids(rel, "test"))
    step(
        "check ids (present, unique, known)",
        lambda: match_entries(predictions, frame, ids, (BEHAVIOUR,)),
    )
    entries = step("read the behaviour gold", lambda: read_entries(rel, BEHAVIOUR, "test"))
    scored = step(
        "check and convert the predictions",
        lambda: scored_for_dimension(predictions, frame, BEHAVIOUR, entries),
    )
    items = step(
        "join to the items table", lambda: to_items(gold_items(BEHAVIOUR, entries), scored)
    )
    stats = step("unit statistics", lambda: DimensionStats(BEHAVIOUR, items))
    step("point estimates", stats.point)
    step("1,000 bootstrap resamples (by user)", lambda: intervals(stats, 1000, 0))
    return steps


def bench_predictions(args, root: Path) -> None:
    start = time.perf_counter()
    release = build_release(root, args.entries, args.users)
    built = time.perf_counter() - start
    predictions = root / "predictions.parquet"
    n = write_predictions(release, predictions)
    print(
        f"\nsynthetic release {release.name}: {n:,} behaviour test entries, {args.users:,} users "
        f"(built in {built:.1f} s); predictions file {predictions.stat().st_size / 2**20:.1f} MiB"
    )
    cmd = [
        str(Path(sys.executable).with_name("recrm")), "eval", str(release), "--name", "million",
        "--predictions", str(predictions), "--dimensions", BEHAVIOUR, "--out", str(root / "results"),
    ]  # fmt: skip
    elapsed, peak, code, output = run_child(cmd, root)
    if code != 0:
        print(output)
        raise SystemExit(f"recrm eval failed ({code})")
    summary = pl.read_parquet(root / "results" / release.name / "million" / "items.parquet").height
    print(
        f"recrm eval --predictions ({summary:,} items): {elapsed:.1f} s wall, peak RSS {peak / 2**20:,.0f} MiB"
    )
    print("in process, step by step:")
    for name, seconds in profile_in_process(release, predictions):
        print(f"  {seconds:7.2f} s  {name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--seconds", type=float, default=12.0, help="ideal length of a judge run")
    parser.add_argument("--entries", type=int, default=1_000_000, help="behaviour predictions")
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--skip-judge", action="store_true")
    parser.add_argument("--skip-predictions", action="store_true")
    args = parser.parse_args(argv)
    met = True
    with tempfile.TemporaryDirectory(prefix="bench-eval-") as tmp:
        root = Path(tmp)
        if not args.skip_predictions:
            bench_predictions(args, root / "million")
        if not args.skip_judge:
            small = build_release(root / "judge", 4000, 400)
            met = bench_judge(args, small, root / "judge")
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
