"""`recrm generate-logs`: write a seeded synthetic log drop (see `loggen`)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser("generate-logs", help="write a seeded synthetic log drop")
    p.add_argument("--out", type=Path, required=True, help="output log root")
    p.add_argument(
        "--domains",
        default="food_delivery,hotel,movie_tickets",
        help="comma-separated service domains",
    )
    p.add_argument("--users", type=int, default=200, help="users per domain")
    p.add_argument("--days", type=int, default=14, help="days of activity")
    p.add_argument("--seed", type=int, default=7)
    from loggen.cli import add_options  # the generator's own knobs (formats, rates, sizes)

    add_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from loggen.cli import run_generate  # the generator owns its options and summary

    return run_generate(args)
