"""`recrm`: the command line. One module per command; each exposes `register(subparsers)`.

Failures print a one-line reason and exit non-zero; `RECRM_DEBUG=1` shows the traceback.
"""

from __future__ import annotations

import argparse
import os
import re
import sys

from core.paths import private_umask
from pipelines.cli import build, generate_logs, ingest, leaderboard, validate
from pipelines.cli import eval as evaluate  # the module `recrm eval`; not the builtin
from pipelines.cli.common import console

COMMANDS = (generate_logs, ingest, build, validate, evaluate, leaderboard)


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="recrm",
        description="Rebuild RecRM-Bench-style reward-model benchmarks from interaction logs.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def one_line(exc: BaseException) -> str:
    """The reason a command failed, as a sentence for users: the first line of the message,
    without a `SomeError:` class-name prefix (Dagster adds one to the errors it re-raises)."""
    text = str(exc).strip()
    if not text:
        return f"{type(exc).__name__} (no message; RECRM_DEBUG=1 shows the traceback)"
    line = _CLASS_PREFIX.sub("", text.splitlines()[0])
    # File and folder names come from the drop: control characters (a terminal escape in a file
    # name) are shown escaped, never sent to the terminal.
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in line)


_CLASS_PREFIX = re.compile(
    r"(?:(?<=: )|^)(?:[A-Za-z_][\w.]*\.)?[A-Z]\w*(?:Error|Exception|Failed|Refused|Invalid)(?:\([^)]*\))?: "
)


def main(argv: list[str] | None = None) -> int:
    # Warehouses, quarantined raw text, run storage and releases this process writes are
    # owner-only (the mask is restored on return, for callers that embed the CLI).
    previous = private_umask()
    try:
        return _main(argv)
    finally:
        os.umask(previous)


def _main(argv: list[str] | None) -> int:
    args = make_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        console.print("[red]interrupted[/red]")
        return 130
    except Exception as exc:  # the CLI's contract: one line, non-zero exit
        if os.environ.get("RECRM_DEBUG"):
            raise
        reason = one_line(exc)
        print(f"recrm {args.command}: error: {reason}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
