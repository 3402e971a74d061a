"""Where a build's time and memory go: wall time and peak RSS of every Dagster step.

Runs the layers `recrm build` runs (every domain through the dimensions, then benchmark, checks
and release) in this process on a drop of logs, reads each step's start and end from the
Dagster event log, samples the RSS and CPU time of this process and its workers every 0.2 s,
and prints one line per step and a table per layer (all domains added up). `cores` is the CPU
time the build used during a step over the step's wall time: 2.0 keeps both cores of this
machine busy, 1.0 leaves one idle.

Usage: .venv/bin/python benchmarks/profile_build_steps.py LOGS_DIR WORKDIR [--profile paper]
(e.g. the `logs/` that `benchmarks/bench_build_paper.py --workdir DIR` leaves in DIR). The
warehouse and releases are written under WORKDIR, which is emptied of them first.
"""

from __future__ import annotations

import os as _os

# Synthetic logs: building them with the public development hash key is fine (issue 17).
_os.environ.setdefault("RECRM_ALLOW_DEV_KEY", "1")

import argparse
import shutil
import sys
import time
import warnings
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from dagster import DagsterEventType  # noqa: E402
from process_tree import TreeSampler  # noqa: E402  (beside this script)

from assets.partitions import DOMAINS  # noqa: E402
from core.settings import load_settings  # noqa: E402
from core.warehouse import held_open  # noqa: E402
from pipelines.jobs import DOMAIN_LAYERS, RELEASE_LAYERS  # noqa: E402
from pipelines.runner import (  # noqa: E402
    discover_domains,
    materialize_selection,
    project_instance,
)


def layer_of(step_key: str) -> str:
    """Report layer of a Dagster step key such as `behavior_prediction__entries`."""
    if step_key.startswith("ingest__"):
        return "ingest + ingest checks"
    if step_key.startswith("staging__"):
        return "staging"
    dimension = step_key.split("__")[0]
    if step_key.endswith("_expectations") or "__benchmark_" in step_key:
        return f"benchmark checks: {dimension}"
    if step_key.endswith("__benchmark"):
        return f"benchmark: {dimension}"
    if step_key.endswith("__judged"):
        return "judged (LLM off)"
    if step_key == "release":
        return "release"
    return f"entries: {dimension}"


def step_times(instance, run_id: str, sampler: TreeSampler) -> list[tuple[str, float, int, float]]:
    """(step key, seconds, peak RSS, CPU seconds) of every step of a run, from its event log."""
    starts: dict[str, float] = {}
    out = []
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None:
            continue
        if event.event_type == DagsterEventType.STEP_START:
            starts[record.step_key] = record.timestamp
        elif event.event_type in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
            start = starts.get(record.step_key, record.timestamp)
            out.append(
                (
                    record.step_key,
                    record.timestamp - start,
                    sampler.peak(start, record.timestamp),
                    sampler.cpu_seconds(start, record.timestamp),
                )
            )
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("logs", type=Path)
    ap.add_argument("workdir", type=Path)
    ap.add_argument("--profile", default="paper")
    args = ap.parse_args(argv)
    # The development hash key is fine for a measurement; its warning would print per domain.
    warnings.filterwarnings("ignore", message="RECRM_HASH_KEY is not set")
    warehouse = args.workdir / "warehouse.duckdb"
    for stale in (warehouse, warehouse.with_name(warehouse.name + ".files"),
                  args.workdir / "releases"):  # fmt: skip
        if stale.is_dir():
            shutil.rmtree(stale)
        elif stale.exists():
            stale.unlink()
    settings = load_settings(
        logs_root=args.logs,
        warehouse_path=warehouse,
        releases_dir=args.workdir / "releases",
        profile=args.profile,
    )
    rows: list[tuple[str, str, float, int, float]] = []
    started = time.time()
    # As `run_layers` (the CLI) does: one DuckDB instance on the warehouse for every step.
    with (
        TreeSampler() as sampler,
        project_instance() as instance,
        held_open(warehouse, settings.storage_root),
    ):
        domains = discover_domains(settings.logs_root)
        known = set(instance.get_dynamic_partitions(DOMAINS.name))
        instance.add_dynamic_partitions(DOMAINS.name, [d for d in domains if d not in known])
        for selection, keys in ((DOMAIN_LAYERS, domains), (RELEASE_LAYERS, [None])):
            for key in keys:
                materialize_selection(selection, settings, instance, key)
                run_id = instance.get_runs(limit=1)[0].run_id
                for step, seconds, peak, cpu in step_times(instance, run_id, sampler):
                    rows.append((key or "all", step, seconds, peak, cpu))
        total = time.time() - started
        overall_peak = max(r for _, r, _ in sampler.samples)
        overall_cpu = sampler.cpu_seconds()
    for domain, step, seconds, peak, cpu in rows:
        cores = cpu / seconds if seconds else 0.0
        print(
            f"{domain:14s} {step:58s} {seconds:7.1f} s {peak / 2**20:7,.0f} MiB {cores:5.2f} cores"
        )
    layers: dict[str, list[float]] = defaultdict(lambda: [0.0, 0, 0.0])
    for _, step, seconds, peak, cpu in rows:
        layer = layers[layer_of(step)]
        layer[0] += seconds
        layer[1] = max(layer[1], peak)
        layer[2] += cpu
    print("\n| layer (all domains) | wall | peak RSS | cores |\n|---|---:|---:|---:|")
    for name, (seconds, peak, cpu) in sorted(layers.items(), key=lambda kv: -kv[1][0]):
        cores = cpu / seconds if seconds else 0.0
        print(f"| {name} | {seconds:.1f} s | {peak / 2**20:,.0f} MiB | {cores:.2f} |")
    steps = sum(seconds for _, _, seconds, _, _ in rows)
    print(
        f"\nsteps {steps:.1f} s of {total:.1f} s wall; peak RSS {overall_peak / 2**20:,.0f} MiB; "
        f"{overall_cpu / total:.2f} cores on average"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
