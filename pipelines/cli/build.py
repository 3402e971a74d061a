"""`recrm build [--logs DIR] [--warehouse FILE] [--storage-root ROOT] [--profile NAME] [--out DIR] [--version V]`.

Runs the `build_domain` job once per domain (ingest, staging and every dimension), then the
`publish_release` job (the cross-domain benchmark selection, its checks and the release): named
jobs, so `dagster dev` lists every build in their run history. Prints each run's id and UI link.

`--domain D` builds only those domains and does NOT publish: a release always holds every domain
of the warehouse under a version derived from all of them, so publishing after a partial rebuild
would mix fresh and stale domains under one version. Publish with a full `recrm build`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from core.defaults import describe_default
from pipelines.cli.options import add_store_options

DOMAIN_JOB = "build_domain"
RELEASE_JOB = "publish_release"


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "build",
        help="build every dimension and publish a release",
        description="Build every domain (job build_domain), then publish a release "
        "(job publish_release). Flags override RECRM_* variables, which override recrm.toml.",
    )
    p.add_argument(
        "--logs",
        type=Path,
        help=f"log root: one folder per domain ({describe_default('logs_root')})",
    )
    add_store_options(p)
    p.add_argument(
        "--profile",
        help=f"size profile from schemas/profiles.py ({describe_default('profile')})",
    )
    p.add_argument("--out", type=Path, help=f"releases folder ({describe_default('releases_dir')})")
    p.add_argument(
        "--version",
        dest="release_version",
        help=f"release version ({describe_default('release_version')} from inputs)",
    )
    p.add_argument(
        "--overwrite", action="store_true", help="replace an existing release version (default: no)"
    )
    p.add_argument(
        "--domain",
        action="append",
        help="build only these domains (repeatable); does not publish a release "
        "(default: every domain folder under the log root)",
    )
    p.add_argument("--seed", type=int, help=f"build seed ({describe_default('seed')})")
    p.add_argument(
        "--json",
        action="store_true",
        help="print a machine-readable summary on stdout (progress goes to stderr)",
    )
    p.add_argument(
        "--allow-dev-key",
        action="store_true",
        help="hash user ids with the PUBLIC development key (demo builds; RECRM_ALLOW_DEV_KEY=1)",
    )
    p.add_argument(
        "--dimensions",
        help="comma-separated dimensions the release holds (default: every dimension that every "
        "selected domain's logs support; `recrm inspect` lists them)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from assets.ingest.capabilities import plan_dimensions
    from core.llm.config import load_llm_config
    from core.settings import load_settings
    from pipelines.cli.common import console_for, warn_about_key
    from pipelines.cli.ingest import select_domains
    from pipelines.cli.progress import step_progress
    from pipelines.jobs import domain_layers, release_layers
    from pipelines.runner import BuildFailed, run_jobs
    from schemas.entries import DIMENSIONS

    # Every argument is checked before any work: settings (profile, types), the log root and
    # the domains asked for.
    settings = load_settings(
        logs_root=args.logs,
        warehouse_path=args.warehouse,
        storage_root=args.storage_root,
        profile=args.profile,
        releases_dir=args.out,
        seed=args.seed,
        release_version=args.release_version,
        overwrite_release=args.overwrite or None,
        allow_dev_key=args.allow_dev_key or None,
    )
    settings.require_usable_key()
    console = console_for(args.json)
    warn_about_key(settings, console)
    domains = select_domains(settings.logs_root, args.domain, console)
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
    selections = None
    if chosen != list(DIMENSIONS):
        left = [d for d in DIMENSIONS if d not in chosen]
        console.print(
            f"building {', '.join(chosen)}; left out: {', '.join(left)} (recrm inspect)",
            markup=False,
        )
        settings = settings.model_copy(update={"dimensions": chosen})
        selections = {DOMAIN_JOB: domain_layers(chosen), RELEASE_JOB: release_layers(chosen)}
    publish = not args.domain
    jobs = [(DOMAIN_JOB, True)] + ([(RELEASE_JOB, False)] if publish else [])
    try:
        with step_progress(console) as on_progress:
            report = run_jobs(
                jobs, domains, settings, on_progress=on_progress, selections=selections
            )
    except BuildFailed as exc:
        # The cause (a meaning check's failure) first, then the symptoms, then the run's page.
        if exc.report is not None:
            from pipelines.cli.common import print_check_failures

            print_check_failures(exc.report, console)
        if exc.url:
            console.print(f"failed run: {exc.url}", markup=False)
        if exc.report is not None and args.json:
            doc = build_summary(exc.report, settings, published=False)
            doc |= {"success": False, "error": str(exc)}
            print(json.dumps(doc, indent=2, default=str))
        raise
    if args.json:
        print(json.dumps(build_summary(report, settings, publish), indent=2, default=str))
        return 0
    print_build_report(report, settings, console, publish)
    return 0


def print_build_report(report, settings, console, published: bool) -> None:
    from pipelines.cli.common import print_check_failures, print_runs
    from pipelines.cli.ingest import print_ingest_summary

    print_ingest_summary(report, console)
    print_entries_summary(report, console)
    print_check_failures(report, console)  # warnings (non-blocking checks) of a successful build
    if published:
        print_release_summary(report, console)
    else:
        console.print(
            "no release published: --domain rebuilds part of the warehouse; "
            "run `recrm build` without --domain to publish",
            markup=False,
        )
    print_runs(report, settings, console)


def entries_counts(report) -> dict[str, dict[str, int]]:
    """dimension -> {domain: rows after the judge layer, "selected": rows the profile kept}."""
    from schemas.entries import DIMENSIONS

    counts: dict[str, dict[str, int]] = {d: {} for d in DIMENSIONS}
    for m in report.materializations:
        dim, _, step = m.asset.partition("/")
        if dim in DIMENSIONS and step in ("judged", "benchmark"):
            column = m.partition if step == "judged" else "selected"
            counts[dim][column] = m.metadata.get("rows")
    return counts


def print_entries_summary(report, console=None) -> None:
    """Entries per dimension and domain (after the judge layer), and what the profile selected."""
    from pipelines.cli.common import print_table
    from schemas.entries import DIMENSIONS

    counts = entries_counts(report)
    domains: list[str] = []
    for m in report.materializations:
        dim, _, step = m.asset.partition("/")
        if dim in DIMENSIONS and step == "judged" and m.partition not in domains:
            domains.append(m.partition)
    columns = [*domains, "selected"]
    rows = [(dim, *(counts[dim].get(c) for c in columns)) for dim in DIMENSIONS]
    print_table(
        "entries per domain, and selected by the profile",
        ["dimension", *columns],
        rows,
        console,
    )


def _label_order(item: tuple[str, int]) -> tuple:
    key = item[0]
    return (0, int(key), "") if key.lstrip("-").isdigit() else (1, 0, key)


def _labels_text(dimension: str, labels: dict) -> str:
    """`label:rows, ...`; for ranking (whose distribution is keyed by gold_ranking length) the
    range and mean of the candidate-list length."""
    from schemas.entries import LABEL_COLUMN

    if LABEL_COLUMN[dimension] == "gold_ranking":
        sizes = {int(k): v for k, v in labels.items()}
        if not sizes:
            return ""
        mean = sum(k * v for k, v in sizes.items()) / sum(sizes.values())
        return f"candidates {min(sizes)}-{max(sizes)}, mean {mean:.1f}"
    return ", ".join(f"{k}:{v}" for k, v in sorted(labels.items(), key=_label_order))


def release_of(report) -> dict | None:
    """The release the run published: version, path, rows, whether it was reused, and the
    per-dimension/split summary read back from its manifest."""
    from assets.release.assets import release_summary
    from assets.release.manifest import read_manifest

    for m in report.materializations:
        if m.asset != "release":
            continue
        path = Path(str(m.metadata.get("path")))
        manifest = read_manifest(path)
        return {
            "version": manifest["version"],
            "path": str(path),
            "rows": manifest["totals"]["rows"],
            "reused_existing": bool(m.metadata.get("reused_existing")),
            "summary": release_summary(manifest),
        }
    return None


def print_release_summary(report, console=None) -> None:
    """Where the release is, and its rows, shards and labels per dimension and split."""
    from pipelines.cli.common import default_console, print_table

    console = console or default_console()
    release = release_of(report)
    if release is None:
        return
    rows = [
        (
            s["dimension"],
            s["split"],
            s["rows"],
            s["shards"],
            _labels_text(s["dimension"], s["labels"]),
        )
        for s in release["summary"]
    ]
    print_table(
        f"release {release['version']}",
        ["dimension", "split", "rows", "shards", "labels"],
        rows,
        console,
    )
    note = " (already published: identical shards)" if release["reused_existing"] else ""
    console.print(f"release: {release['path']}{note}", markup=False)
    console.print(f"check it with: recrm validate {release['path']}", markup=False)


def build_summary(report, settings, published: bool) -> dict:
    """The `--json` document: runs (with UI links), ingest counts, entries, checks, release."""
    from pipelines.cli.common import runs_json
    from pipelines.cli.ingest import ingest_rows

    return {
        "command": "build",
        "success": True,
        "published": published,
        "settings": settings.public_dict(),
        "runs": runs_json(report, settings),
        "ingest": ingest_rows(report),
        "entries": entries_counts(report),
        "checks": [
            {"asset": c.asset, "check": c.check, "passed": c.passed, "severity": c.severity}
            for c in report.checks
        ],
        "release": release_of(report) if published else None,
    }
