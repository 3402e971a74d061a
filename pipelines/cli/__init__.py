"""`recrm`: the command line. One module per command; each exposes `register(subparsers)`.

Failures print a one-line reason and exit non-zero; `RECRM_DEBUG=1` shows the traceback.
"""

from __future__ import annotations

import argparse
import os
import sys

from pipelines.cli import (
    build,
    generate_logs,
    import_logs,
    ingest,
    inspect_logs,
    leaderboard,
    validate,
)
from pipelines.cli import eval as evaluate  # the module `recrm eval`; not the builtin
from pipelines.cli.common import console

COMMANDS = (
    generate_logs,
    import_logs,
    inspect_logs,
    ingest,
    build,
    validate,
    evaluate,
    leaderboard,
)


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="recrm",
        description="Rebuild RecRM-Bench-style reward-model benchmarks from interaction logs.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        console.print("[red]interrupted[/red]")
        return 130
    except Exception as exc:  # the CLI's contract: one line, non-zero exit
        if os.environ.get("RECRM_DEBUG"):
            raise
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"recrm {args.command}: error: {reason}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
