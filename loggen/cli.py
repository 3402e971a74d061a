"""`recrm generate-logs`: options, progress and the summary table of the generator."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from loggen.config import FORMATS, GeneratorConfig, resolve_formats
from loggen.generate import calibrate_rate, generate


def add_options(p: argparse.ArgumentParser) -> None:
    """Options beyond the ones `pipelines/cli/generate_logs.py` declares (out, domains, users,
    days, seed)."""
    p.add_argument("--items", type=int, help="items per domain (default: users/10, 400-60,000)")
    p.add_argument(
        "--format",
        default="parquet",
        choices=[*FORMATS, "mixed"],
        help="file format of every domain; 'mixed' rotates parquet, csv.gz, jsonl, ...",
    )
    p.add_argument("--gzip", action="store_true", help="gzip csv / jsonl files")
    p.add_argument(
        "--domain-format",
        action="append",
        metavar="DOMAIN=FMT",
        help="format of one domain: parquet, csv, csv.gz, jsonl, jsonl.gz (repeatable)",
    )
    p.add_argument(
        "--rate",
        type=float,
        default=0.6,
        help="mean requests per user-day in food_delivery; other domains scale it",
    )
    p.add_argument(
        "--target-events",
        type=int,
        help="size the drop: set --rate so that all domains hold about N event rows",
    )
    p.add_argument(
        "--chunk-users",
        type=int,
        default=20_000,
        help="users simulated and written per chunk (bounded by memory)",
    )
    p.add_argument(
        "--agent-share",
        type=float,
        default=0.3,
        help="share of requests with an LLM-agent transcript",
    )
    p.add_argument(
        "--violation-rate",
        type=float,
        default=0.25,
        help="share of agent responses breaking >= 1 instruction constraint",
    )
    p.add_argument(
        "--misstatement-rate",
        type=float,
        default=0.20,
        help="share of agent responses misstating >= 1 item fact",
    )
    p.add_argument(
        "--annotations",
        type=int,
        default=600,
        help="expert-annotated (query, item) pairs per domain, at most",
    )
    p.add_argument("--zh-share", type=float, default=0.65, help="share of Chinese-language users")
    p.add_argument("--overwrite", action="store_true", help="replace existing domain folders")


def config_from_args(args: argparse.Namespace) -> GeneratorConfig:
    domains = tuple(d.strip() for d in args.domains.split(",") if d.strip())
    return GeneratorConfig(
        domains=domains,
        users=args.users,
        days=args.days,
        seed=args.seed,
        items=args.items,
        requests_per_user_day=args.rate,
        formats=resolve_formats(domains, args.format, args.gzip, args.domain_format),
        chunk_users=args.chunk_users,
        agent_share=args.agent_share,
        violation_rate=args.violation_rate,
        misstatement_rate=args.misstatement_rate,
        annotations=args.annotations,
        zh_share=args.zh_share,
    )


def run_generate(args: argparse.Namespace) -> int:
    from core.console import console, print_table

    cfg = config_from_args(args)
    out: Path = args.out
    started = time.perf_counter()  # for the elapsed-time line only; never reaches the data
    with console.status("generating logs") as status:
        if args.target_events:
            status.update("calibrating the activity rate")
            cfg = calibrate_rate(cfg, args.target_events)
            console.print(
                f"activity rate for ~{args.target_events:,} events: "
                f"{cfg.requests_per_user_day:.3f} requests per user-day"
            )
        results = generate(cfg, out, overwrite=args.overwrite, progress=status.update)
    rows = []
    for r in results:
        for table, n in r.rows.items():
            path = r.files[table]
            rows.append((r.domain, table, n, path.name, f"{path.stat().st_size / 1e6:.2f} MB"))
    print_table(f"generated logs in {out}", ["domain", "table", "rows", "file", "size"], rows)
    total = sum(n for r in results for t, n in r.rows.items() if t == "events")
    console.print(
        f"{total:,} events in {time.perf_counter() - started:.1f} s; truth under {out / '_truth'}"
    )
    return 0
