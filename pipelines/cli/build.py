"""`recrm build --logs DIR [--warehouse FILE] [--profile NAME] [--out DIR] [--version V]`.

Runs ingest, staging and every dimension per domain, then the cross-domain benchmark selection,
its checks, and the release.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from assets.capabilities import plan_dimensions
from core.llm.config import load_llm_config
from core.settings import load_settings
from pipelines.cli.common import console, print_check_failures, print_table, warn_about_key
from pipelines.cli.ingest import print_ingest_summary, select_domains
from pipelines.jobs import domain_layers, release_layers
from pipelines.runner import BuildFailed, RunReport, run_layers
from schemas.entries import DIMENSIONS, LABEL_COLUMN


def register(subparsers) -> None:
    p = subparsers.add_parser("build", help="build every dimension and publish a release")
    p.add_argument("--logs", type=Path, required=True, help="log root: one folder per domain")
    p.add_argument("--warehouse", type=Path, help="DuckDB file (default data/warehouse.duckdb)")
    p.add_argument("--profile", help="size profile: small (default) or paper")
    p.add_argument("--out", type=Path, help="releases folder (default releases/)")
    p.add_argument("--version", help="release version (default: derived from the inputs)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing release version")
    p.add_argument("--domain", action="append", help="only these domains (repeatable)")
    p.add_argument("--seed", type=int, help="build seed")
    p.add_argument(
        "--dimensions",
        help="comma-separated dimensions the release holds (default: every dimension that every "
        "selected domain's logs support; `recrm inspect` lists them)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings(
        logs_root=args.logs,
        warehouse_path=args.warehouse,
        profile=args.profile,
        releases_dir=args.out,
        seed=args.seed,
        release_version=args.version,
        overwrite_release=args.overwrite or None,
    )
    warn_about_key(settings)
    domains = select_domains(settings.logs_root, args.domain)
    # Before any work: the dimensions the drops support (or those asked for, if supported);
    # a dimension a drop cannot support fails here naming the cause, not as "row count 0" later.
    wanted = (
        [d.strip() for d in args.dimensions.split(",") if d.strip()] if args.dimensions else None
    )
    chosen, failure = plan_dimensions(
        settings.logs_root, domains, wanted, load_llm_config().enabled
    )
    if failure:
        raise BuildFailed(failure)
    if chosen != list(DIMENSIONS):
        left = [d for d in DIMENSIONS if d not in chosen]
        console.print(f"building {', '.join(chosen)}; left out: {', '.join(left)} (recrm inspect)")
        settings = settings.model_copy(update={"dimensions": chosen})
    layers = [
        ("domain layers", domain_layers(chosen), True),
        ("release", release_layers(chosen), False),
    ]
    try:
        with console.status("building") as status:
            report = run_layers(layers, domains, settings, on_step=lambda s: status.update(s))
    except BuildFailed as exc:
        failed_report = getattr(exc, "report", None)
        if failed_report is not None:
            print_check_failures(failed_report)
        raise
    print_ingest_summary(report)
    print_entries_summary(report)
    print_check_failures(report)  # warnings (non-blocking checks) of a successful build
    print_release_summary(report)
    return 0


def print_entries_summary(report: RunReport) -> None:
    """Entries per dimension and domain (after the judge layer), and what the profile selected."""
    counts: dict[tuple[str, str], int] = {}
    domains: list[str] = []
    for m in report.materializations:
        dim, _, step = m.asset.partition("/")
        if dim in DIMENSIONS and step in ("judged", "benchmark"):
            column = m.partition if step == "judged" else "selected"
            if step == "judged" and column not in domains:
                domains.append(column)
            counts[(dim, column)] = m.metadata.get("rows")
    columns = [*domains, "selected"]
    rows = [(dim, *(counts.get((dim, c)) for c in columns)) for dim in DIMENSIONS]
    print_table("entries per domain, and selected by the profile", ["dimension", *columns], rows)


def _label_order(item: tuple[str, int]) -> tuple:
    key = item[0]
    return (0, int(key), "") if key.lstrip("-").isdigit() else (1, 0, key)


def _labels_text(dimension: str, labels: dict) -> str:
    """`label:rows, ...`; for ranking (whose distribution is keyed by gold_ranking length) the
    range and mean of the candidate-list length."""
    if LABEL_COLUMN[dimension] == "gold_ranking":
        sizes = {int(k): v for k, v in labels.items()}
        if not sizes:
            return ""
        mean = sum(k * v for k, v in sizes.items()) / sum(sizes.values())
        return f"candidates {min(sizes)}-{max(sizes)}, mean {mean:.1f}"
    return ", ".join(f"{k}:{v}" for k, v in sorted(labels.items(), key=_label_order))


def print_release_summary(report: RunReport) -> None:
    """Where the release is, and its rows, shards and labels per dimension and split."""
    for m in report.materializations:
        if m.asset != "release":
            continue
        summary = m.metadata.get("summary") or []
        rows = [
            (
                s["dimension"],
                s["split"],
                s["rows"],
                s["shards"],
                _labels_text(s["dimension"], s["labels"]),
            )
            for s in summary
        ]
        print_table(
            f"release {m.metadata.get('version')}",
            ["dimension", "split", "rows", "shards", "labels"],
            rows,
        )
        note = " (already published: identical shards)" if m.metadata.get("reused_existing") else ""
        console.print(f"release: {m.metadata.get('path')}{note}")
        console.print(f"check it with: recrm validate {m.metadata.get('path')}")
