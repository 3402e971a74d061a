"""`recrm ingest [--logs DIR] [--warehouse FILE] [--storage-root ROOT] [--domain D ...]`: the `ingest_domain` job, once
per domain."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from core.defaults import describe_default
from pipelines.cli.options import add_store_options

INGEST_JOB = "ingest_domain"


def register(subparsers) -> None:
    p = subparsers.add_parser("ingest", help="ingest a log drop into the warehouse")
    p.add_argument(
        "--logs",
        type=Path,
        help=f"log root: one folder per domain ({describe_default('logs_root')})",
    )
    add_store_options(p)
    p.add_argument(
        "--domain",
        action="append",
        help="only these domains (repeatable; default: every domain folder under the log root)",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print a machine-readable summary on stdout (progress goes to stderr)",
    )
    p.add_argument(
        "--max-quarantine-rate",
        type=float,
        help="fail when a table quarantines more than this share of its records "
        f"({describe_default('max_quarantine_rate')})",
    )
    p.add_argument(
        "--allow-dev-key",
        action="store_true",
        help="hash user ids with the PUBLIC development key (demo builds; RECRM_ALLOW_DEV_KEY=1)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from core.settings import load_settings
    from pipelines.cli.common import (
        console_for,
        print_check_failures,
        print_runs,
        runs_json,
        warn_about_key,
    )
    from pipelines.cli.progress import step_progress
    from pipelines.runner import BuildFailed, run_jobs

    settings = load_settings(
        logs_root=args.logs,
        warehouse_path=args.warehouse,
        storage_root=args.storage_root,
        allow_dev_key=args.allow_dev_key or None,
        max_quarantine_rate=args.max_quarantine_rate,
    )
    settings.require_usable_key()
    console = console_for(args.json)
    warn_about_key(settings, console)
    domains = select_domains(settings.logs_root, args.domain, console)
    try:
        with step_progress(console) as on_progress:
            report = run_jobs([(INGEST_JOB, True)], domains, settings, on_progress=on_progress)
    except BuildFailed as exc:
        if exc.url:
            console.print(f"failed run: {exc.url}", markup=False)
        if exc.report is not None:
            print_check_failures(exc.report, console)
        raise
    over = quarantine_over(report, settings.max_quarantine_rate)
    failure = (
        "quarantine rate above max_quarantine_rate "
        f"{settings.max_quarantine_rate:.2%}: "
        + "; ".join(f"{d}/{t} {q:,} of {r:,} records ({q / r:.1%})" for d, t, r, q in over)
        + " (reasons in the summary and in the warehouse table `quarantine`)"
        if over
        else None
    )
    if args.json:
        doc = {
            "command": "ingest",
            "success": not over,
            "warehouse": str(settings.warehouse_path),
            "storage_root": settings.storage_root,
            "runs": runs_json(report, settings),
            "ingest": ingest_rows(report),
        }
        if failure:
            doc["error"] = failure
        print(json.dumps(doc, indent=2, default=str))
    else:
        print_ingest_summary(report, console)
        print_check_failures(report, console)  # the ingest checks that only warn
        store = "warehouse file" if settings.embedded else "storage root"
        console.print(f"{store}: {settings.store}", markup=False)
        print_runs(report, settings, console)
    if failure:
        raise BuildFailed(failure)
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


def select_domains(logs_root: Path, wanted: list[str] | None, console=None) -> list[str]:
    from core.paths import check_domain
    from pipelines.cli.common import console as default_console
    from pipelines.runner import BuildFailed, scan_log_root

    console = console or default_console
    for name in wanted or []:
        check_domain(name)
    found, skipped = scan_log_root(logs_root)
    for name, why in skipped.items():
        console.print(f"WARNING: folder {name!r} skipped: {why}", markup=False, soft_wrap=True)
    if not found:
        raise BuildFailed(f"no domain folders with log files under {logs_root}")
    if wanted:
        missing = sorted(set(wanted) - set(found))
        if missing:
            raise BuildFailed(f"no log folder for domain(s) {', '.join(missing)} under {logs_root}")
        return [d for d in found if d in wanted]
    return found


def ingest_rows(report) -> list[dict]:
    """Per domain and contract table: rows read, accepted and quarantined, and why."""
    rows = []
    for m in report.materializations:
        if not m.asset.startswith("ingest/") or "read" not in m.metadata:
            continue  # the domain's settings file is not a table
        md = m.metadata
        rows.append(
            {
                "domain": m.partition,
                "table": m.asset.removeprefix("ingest/"),
                "read": md.get("read"),
                "accepted": md.get("accepted"),
                "quarantined": md.get("quarantined"),
                "ignored": md.get("ignored") or 0,  # event records the domain.toml leaves out
                "quarantine_reasons": md.get("quarantine_reasons") or {},
            }
        )
    return sorted(rows, key=lambda r: (r["domain"], r["table"]))


def print_ingest_summary(report, console=None) -> None:
    from pipelines.cli.common import print_table

    rows = ingest_rows(report)
    print_table(
        "ingest",
        ["domain", "table", "read", "accepted", "quarantined", "ignored"],
        [
            (r["domain"], r["table"], r["read"], r["accepted"], r["quarantined"], r["ignored"])
            for r in rows
        ],
        console,
    )
    reasons = sorted(
        (r["domain"], r["table"], kind, n)
        for r in rows
        for kind, n in r["quarantine_reasons"].items()
    )
    if reasons:
        print_table(
            "quarantined records (table `quarantine`)",
            ["domain", "table", "reason", "records"],
            reasons,
            console,
        )
    ignored = sorted(
        (m.partition, name, why)
        for m in report.materializations
        if m.asset == "ingest/domain_settings"
        for name, why in (m.metadata.get("ignored_files") or {}).items()
    )
    if ignored:
        print_table("files not read (ignored)", ["domain", "file", "why"], ignored, console)
