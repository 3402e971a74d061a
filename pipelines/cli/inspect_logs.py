"""`recrm inspect --logs DIR [--domain D ...]`: per domain, what the drop holds and which
benchmark dimensions it can support, and why not (assets/ingest/capabilities.py). Reads the files
through each domain's `domain.toml`; writes nothing."""

from __future__ import annotations

import argparse
from pathlib import Path

from assets.ingest.capabilities import capabilities, profile_drop
from core.llm.config import load_llm_config
from pipelines.cli.common import console
from pipelines.cli.ingest import select_domains


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "inspect", help="which dimensions each domain's logs can support, and why not"
    )
    p.add_argument("logs", type=Path, help="log root: one folder per domain")
    p.add_argument("--domain", action="append", help="only these domains (repeatable)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    llm = load_llm_config().enabled
    console.print(f"LLM endpoint: {'configured' if llm else 'none (RECRM_LLM_BASE_URL unset)'}")
    for domain in select_domains(args.logs, args.domain):
        profile = profile_drop(args.logs, domain)
        tables = ", ".join(f"{t} {n:,}" for t, n in profile.rows.items() if n)
        console.print(f"\n[bold]{domain}[/bold]: {tables or 'no records'}")
        if profile.event_types:
            kinds = ", ".join(f"{k} {n:,}" for k, n in sorted(profile.event_types.items()))
            console.print(f"  event types (mapped): {kinds}")
        for problem in profile.problems:
            console.print(f"  [yellow]{problem}[/yellow]")
        for c in capabilities(profile, llm):
            mark = "[green]yes[/green]" if c.supported else "[red]NO[/red] "
            console.print(f"  {mark} {c.dimension}: {c.reason}")
    return 0
