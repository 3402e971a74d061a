"""`recrm domains list [--json]` and `recrm domains remove NAME...`: the `domain` partitions of
the project's Dagster instance (the one `recrm build` and `dagster dev` use).

A partition is added for each domain the CLI builds and each folder the new-domain sensor finds.
One left behind (a domain built from another log root, a retired domain) keeps the
`release_after_domains` sensor waiting for a rebuild that never comes: `list` shows each one
with whether its log folder exists (and is complete: holds `_SUCCESS`) and its last
`build_domain` run, then the log root's domain folders that are not partitions yet; `remove`
deletes a partition (its runs, warehouse tables and releases are kept).
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path

from core.defaults import describe_default

DOMAIN_JOB = "build_domain"
PARTITION_TAG = "dagster/partition"


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "domains",
        help="list or remove the domain partitions of the Dagster instance",
        description="Manage the `domain` partitions of the project's Dagster instance.",
    )
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    ls = sub.add_parser(
        "list",
        help="each domain partition and log folder: complete or not, last build_domain run",
    )
    ls.add_argument(
        "--logs",
        type=Path,
        help=f"log root to look for folders in ({describe_default('logs_root')})",
    )
    ls.add_argument("--json", action="store_true", help="print a JSON list on stdout")
    ls.set_defaults(func=run_list)
    rm = sub.add_parser("remove", help="delete domain partitions (runs and data are kept)")
    rm.add_argument("names", nargs="+", metavar="NAME", help="domain partition to delete")
    rm.add_argument(
        "--logs",
        type=Path,
        help=f"log root to look for folders in ({describe_default('logs_root')})",
    )
    rm.set_defaults(func=run_remove)


def _time(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, tz=UTC).isoformat(timespec="seconds")


def domain_rows(instance, logs_root: Path) -> list[dict]:
    """One dict per domain partition, then per domain folder of `logs_root` that is not one yet:
    whether it is a partition, its folder and whether it exists and is complete (holds
    `_SUCCESS`), and its last build_domain run (id, status, start or creation time, from the CLI
    or not)."""
    from dagster import RunsFilter

    from assets.ingest.discover import is_complete
    from assets.partitions import DOMAINS
    from core.paths import PathRefused, domain_folder
    from pipelines.runner import BuildFailed, scan_log_root

    partitions = sorted(instance.get_dynamic_partitions(DOMAINS.name))
    try:
        folders = scan_log_root(logs_root)[0]
    except BuildFailed:  # no log root: the partitions are still listed
        folders = []
    rows = []
    for name in [*partitions, *(f for f in folders if f not in partitions)]:
        try:
            folder = domain_folder(logs_root, name)
            exists = folder.is_dir()
        except PathRefused:
            folder, exists = logs_root / name, False
        records = instance.get_run_records(
            RunsFilter(job_name=DOMAIN_JOB, tags={PARTITION_TAG: name}), limit=1
        )
        run = records[0] if records else None
        rows.append(
            {
                "domain": name,
                "partition": name in partitions,
                "folder": str(folder),
                "folder_exists": exists,
                "complete": exists and is_complete(folder),
                "last_run_id": run.dagster_run.run_id if run else None,
                "last_run_status": run.dagster_run.status.value if run else None,
                "last_run_time": _time(
                    (run.start_time or run.create_timestamp.timestamp()) if run else None
                ),
                "last_run_from_cli": (run.dagster_run.tags.get("recrm/cli") == "true")
                if run
                else None,
            }
        )
    return rows


def _folder_state(row: dict) -> str:
    if not row["folder_exists"]:
        return "MISSING"
    return "complete" if row["complete"] else "incomplete (no _SUCCESS)"


def run_list(args: argparse.Namespace) -> int:
    from core.settings import load_settings
    from pipelines.cli.common import console, print_table
    from pipelines.runner import project_instance

    settings = load_settings(logs_root=args.logs)
    with project_instance() as instance:
        rows = domain_rows(instance, Path(settings.logs_root))
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        console.print("no domain partitions and no domain folders", markup=False)
        return 0
    print_table(
        f"domain partitions (log root {settings.logs_root})",
        ["domain", "partition", "log folder", "last build", "status", "time (UTC)"],
        [
            (
                r["domain"],
                "yes" if r["partition"] else "no",
                _folder_state(r),
                (r["last_run_id"][:8] if r["last_run_id"] else "never built")
                + (" (cli)" if r["last_run_from_cli"] else ""),
                r["last_run_status"] or "",
                r["last_run_time"] or "",
            )
            for r in rows
        ],
    )
    return 0


def run_remove(args: argparse.Namespace) -> int:
    from assets.partitions import DOMAINS
    from core.paths import check_domain, domain_folder
    from core.settings import load_settings
    from pipelines.cli.common import console
    from pipelines.runner import project_instance
    from schemas.logs import COMPLETE_MARKER

    for name in args.names:  # every name is checked before anything is deleted
        check_domain(name)
    settings = load_settings(logs_root=args.logs)
    removed = []
    with project_instance() as instance:
        known = set(instance.get_dynamic_partitions(DOMAINS.name))
        unknown = [n for n in dict.fromkeys(args.names) if n not in known]
        if unknown:  # nothing is deleted when one name is wrong
            raise ValueError(
                f"no domain partition named {', '.join(unknown)} (known: "
                f"{', '.join(sorted(known)) or 'none'}); nothing removed"
            )
        for name in dict.fromkeys(args.names):
            instance.delete_dynamic_partition(DOMAINS.name, name)
            removed.append(name)
    for name in removed:
        console.print(f"removed domain partition {name}", markup=False)
        marker = domain_folder(settings.logs_root, name) / COMPLETE_MARKER
        if marker.is_file():
            console.print(
                f"  note: {marker} is still there, so the new-domain sensor will add {name} "
                f"again; delete the folder or its {COMPLETE_MARKER} to retire the domain",
                markup=False,
            )
    return 0
