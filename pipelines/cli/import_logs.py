"""`recrm import --format NAME SRC --domain D --out LOGS_ROOT`: a public dataset in its published
layout -> a contract drop `<LOGS_ROOT>/<D>/` with its `domain.toml` (importers/)."""

from __future__ import annotations

import argparse
import inspect
from pathlib import Path

from importers import IMPORTERS
from pipelines.cli.common import console, print_table


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "import", help="convert a public dataset (RecBole, Taobao, Instacart, ...) into a log drop"
    )
    p.add_argument("--format", required=True, choices=sorted(IMPORTERS), help="source format")
    p.add_argument("src", type=Path, help="the dataset's folder (or file, where one suffices)")
    p.add_argument("--domain", required=True, help="domain name: the drop's folder name")
    p.add_argument("--out", type=Path, required=True, help="log root the domain folder goes in")
    p.add_argument(
        "--time-zone", help="IANA zone of the source's users (formats whose files do not say)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    importer = IMPORTERS[args.format]
    options = {}
    if args.time_zone:
        if "time_zone" not in inspect.signature(importer).parameters:
            raise ValueError(
                f"--time-zone does not apply to --format {args.format} (its files say, or the "
                "time zone is set in the written domain.toml)"
            )
        options["time_zone"] = args.time_zone
    if not args.src.exists():
        raise FileNotFoundError(f"{args.src}: no such file or folder")
    result = importer(args.src, args.out, args.domain, **options)
    print_table(f"import {args.format} -> {result.folder}", ["table", "rows"], result.rows.items())
    for note in result.notes:
        console.print(f"- {note}")
    console.print(f"mapping: {result.folder / 'domain.toml'}")
    console.print(f"next: recrm ingest --logs {args.out} --domain {args.domain}")
    return 0
