"""`recrm ingest --logs DIR [--warehouse FILE] [--domain D ...]`: the ingest assets, per domain."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.settings import load_settings
from pipelines.cli.common import console, print_check_failures, print_table, warn_about_key
from pipelines.jobs import INGEST
from pipelines.runner import BuildFailed, discover_domains, run_layers


def register(subparsers) -> None:
    p = subparsers.add_parser("ingest", help="ingest a log drop into the DuckDB warehouse")
    p.add_argument("--logs", type=Path, required=True, help="log root: one folder per domain")
    p.add_argument("--warehouse", type=Path, help="DuckDB file (default data/warehouse.duckdb)")
    p.add_argument("--domain", action="append", help="only these domains (repeatable)")
    p.add_argument(
        "--max-quarantine-rate",
        type=float,
        help="fail when a table quarantines more than this share of its records (default 0.01)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings(
        logs_root=args.logs,
        warehouse_path=args.warehouse,
        max_quarantine_rate=args.max_quarantine_rate,
    )
    warn_about_key(settings)
    domains = select_domains(settings.logs_root, args.domain)
    try:
        with console.status("ingesting") as status:
            report = run_layers(
                [("ingest", INGEST, True)], domains, settings, on_step=lambda s: status.update(s)
            )
    except BuildFailed as exc:
        if exc.report is not None:
            print_check_failures(exc.report)
        raise
    print_ingest_summary(report)
    print_check_failures(report)  # the ingest checks that only warn
    console.print(f"warehouse: {settings.warehouse_path}")
    over = quarantine_over(report, settings.max_quarantine_rate)
    if over:
        raise BuildFailed(
            "quarantine rate above max_quarantine_rate "
            f"{settings.max_quarantine_rate:.2%}: "
            + "; ".join(f"{d}/{t} {q:,} of {r:,} records ({q / r:.1%})" for d, t, r, q in over)
            + " (reasons above and in the warehouse table `quarantine`)"
        )
    return 0


def quarantine_over(report, max_rate: float) -> list[tuple[str, str, int, int]]:
    """(domain, table, read, quarantined) of every table whose quarantined share exceeds
    `max_rate`: a drop that mostly fails the contract must not pass as ingested."""
    over = []
    for m in report.materializations:
        read, quarantined = m.metadata.get("read"), m.metadata.get("quarantined")
        if m.asset.startswith("ingest/") and read and quarantined / read > max_rate:
            over.append((m.partition, m.asset.removeprefix("ingest/"), read, quarantined))
    return sorted(over)


def select_domains(logs_root: Path, wanted: list[str] | None) -> list[str]:
    found = discover_domains(logs_root)
    if not found:
        raise BuildFailed(f"no domain folders with log files under {logs_root}")
    if wanted:
        missing = sorted(set(wanted) - set(found))
        if missing:
            raise BuildFailed(f"no log folder for domain(s) {', '.join(missing)} under {logs_root}")
        return [d for d in found if d in wanted]
    return found


def print_ingest_summary(report) -> None:
    rows = []
    for m in report.materializations:
        if not m.asset.startswith("ingest/") or "read" not in m.metadata:
            continue  # the domain's settings file is not a table
        md = m.metadata
        rows.append(
            (
                m.partition,
                m.asset.removeprefix("ingest/"),
                md.get("read"),
                md.get("accepted"),
                md.get("quarantined"),
                md.get("ignored") or 0,  # event types the domain.toml leaves out
            )
        )
    print_table(
        "ingest", ["domain", "table", "read", "accepted", "quarantined", "ignored"], sorted(rows)
    )
    reasons = sorted(
        (m.partition, m.asset.removeprefix("ingest/"), kind, n)
        for m in report.materializations
        if m.asset.startswith("ingest/")
        for kind, n in (m.metadata.get("quarantine_reasons") or {}).items()
    )
    if reasons:
        print_table(
            "quarantined records (table `quarantine`)",
            ["domain", "table", "reason", "records"],
            reasons,
        )
