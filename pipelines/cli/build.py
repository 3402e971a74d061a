"""`recrm build --logs DIR [--warehouse FILE] [--profile NAME] [--out DIR] [--version V]`.

Runs ingest, staging and every dimension per domain, then the cross-domain benchmark selection,
its checks, and the release.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from core.settings import load_settings
from pipelines.cli.common import console, print_table, warn_about_key
from pipelines.cli.ingest import print_ingest_summary, select_domains
from pipelines.jobs import DOMAIN_LAYERS, RELEASE_LAYERS
from pipelines.runner import run_layers


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
    layers = [("domain layers", DOMAIN_LAYERS, True), ("release", RELEASE_LAYERS, False)]
    with console.status("building") as status:
        report = run_layers(layers, domains, settings, on_step=lambda s: status.update(s))
    print_ingest_summary(report)
    rows = [
        (m.asset, m.partition or "all", m.metadata.get("rows"))
        for m in report.materializations
        if not m.asset.startswith("ingest/")
    ]
    print_table("built", ["asset", "domain", "rows"], rows)
    return 0
