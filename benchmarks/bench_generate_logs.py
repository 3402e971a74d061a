"""Benchmark of `recrm generate-logs`: wall time and peak memory at 10 million events.

The generation runs in a child process (this script with `--child`) so that its peak RSS is its
own, not the parent's; the drop goes to a temporary folder that is deleted afterwards.

    .venv/bin/python benchmarks/bench_generate_logs.py                  # 10M events, 3 domains
    .venv/bin/python benchmarks/bench_generate_logs.py --events 200000  # a quick look

"Events" are rows of the `events` tables (clicks, carts, favourites, orders) over all domains;
impressions, requests and agent transcripts scale with them and are reported too.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child(args: argparse.Namespace) -> None:
    """Generate the drop in this process and print its figures as one JSON line."""
    sys.path.insert(0, str(ROOT))
    from loggen.config import GeneratorConfig, resolve_formats
    from loggen.generate import calibrate_rate, generate

    domains = tuple(args.domains.split(","))
    cfg = GeneratorConfig(
        domains=domains,
        users=args.users,
        days=args.days,
        seed=args.seed,
        formats=resolve_formats(domains, args.format, False),
        agent_share=args.agent_share,
    )
    started = time.perf_counter()
    cfg = calibrate_rate(cfg, args.events)
    calibrated = time.perf_counter()
    results = generate(cfg, Path(args.out))
    finished = time.perf_counter()
    rows: dict[str, int] = {}
    for r in results:
        for table, n in r.rows.items():
            rows[table] = rows.get(table, 0) + n
    print(
        json.dumps(
            {
                "rate": cfg.requests_per_user_day,
                "calibration_s": calibrated - started,
                "generation_s": finished - calibrated,
                "rows": rows,
                "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=10_000_000, help="target event rows")
    p.add_argument("--domains", default="food_delivery,hotel,movie_tickets")
    p.add_argument("--users", type=int, default=300_000, help="users per domain")
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--format", default="parquet", help="parquet, csv, jsonl or mixed")
    p.add_argument("--agent-share", type=float, default=0.3)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args)
        return
    with tempfile.TemporaryDirectory(prefix="bench_generate_logs_") as tmp:
        cmd = [sys.executable, __file__, "--child", "--out", tmp]
        for name in ("events", "domains", "users", "days", "seed", "format", "agent_share"):
            cmd += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
        started = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        wall = time.perf_counter() - started
        if proc.returncode != 0:
            sys.exit(f"generation failed:\n{proc.stderr}")
        figures = json.loads(proc.stdout.strip().splitlines()[-1])
        size = sum(f.stat().st_size for f in Path(tmp).rglob("*") if f.is_file())
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    children_peak = usage.ru_maxrss / 1024
    cpu = usage.ru_utime + usage.ru_stime  # on a shared machine, CPU time is the steadier figure
    rows = figures["rows"]
    print(
        f"generate-logs benchmark ({args.domains}; {args.users:,} users x {args.days} days per "
        f"domain; format {args.format}; agent share {args.agent_share}; {os.cpu_count()} CPUs)"
    )
    print(f"  target events        {args.events:>14,}")
    for table in (
        "events",
        "impressions",
        "requests",
        "agent_turns",
        "users",
        "items",
        "annotations",
    ):
        print(f"  {table:<20} {rows.get(table, 0):>14,}")
    print(f"  activity rate        {figures['rate']:>14.3f} requests per user-day (food)")
    print(
        f"  wall time            {wall:>14.1f} s (calibration {figures['calibration_s']:.1f} s, "
        f"generation {figures['generation_s']:.1f} s)"
    )
    print(f"  CPU time             {cpu:>14.1f} s (user + system of the generating process)")
    print(
        f"  throughput           {rows['events'] / figures['generation_s']:>14,.0f} events/s, "
        f"{rows['impressions'] / figures['generation_s']:,.0f} impressions/s"
    )
    print(f"  peak RSS             {max(figures['peak_rss_mib'], children_peak):>14,.0f} MiB")
    print(f"  output size          {size / 2**20:>14,.0f} MiB")


if __name__ == "__main__":
    main()
