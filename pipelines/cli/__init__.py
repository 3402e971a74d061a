"""`recrm`: the command line. One module per command; each exposes `register(subparsers)`.

A command's module is imported only when that command runs (or its `--help` is asked for), and
the modules import Dagster, DuckDB, polars and rich inside their `run`: `recrm --help` and
`recrm --version` load nothing heavy (benchmarks/bench_cli_help.py measures them).

Failures print a one-line reason and exit non-zero; `RECRM_DEBUG=1` shows the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys

from core.defaults import STORE_RULE
from core.paths import private_umask

# name -> (module under pipelines.cli, one-line help). A new command: add its module and a row.
COMMANDS: dict[str, tuple[str, str]] = {
    "generate-logs": ("generate_logs", "write a seeded synthetic log drop"),
    "import": ("import_logs", "convert a public dataset (RecBole, Taobao, ...) into a log drop"),
    "inspect": ("inspect_logs", "report which dimensions each domain's logs can support"),
    "ingest": ("ingest", "ingest a log drop into the warehouse"),
    "build": ("build", "build every dimension and publish a release"),
    "validate": ("validate", "re-check a release against its manifest"),
    "publish": ("publish", "copy a release to object storage, a folder or a hub staging folder"),
    "eval": ("eval", "score a judge, predictions or a baseline on a release"),
    "leaderboard": ("leaderboard", "compare the evaluation results of a release"),
    "domains": ("domains", "list or remove the domain partitions of the Dagster instance"),
}


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("recrm-pipeline")
    except PackageNotFoundError:
        return "unknown (not installed)"


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows `(default: X)` after an option's help, unless the help already says its default
    or there is none to show (settings-backed flags name their variable and file key)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "default" in text or action.default in (None, False, argparse.SUPPRESS):
            return text
        return super()._get_help_string(action)


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)


def _requested(argv: list[str]) -> str | None:
    """The command named on the command line (the first argument that is not an option)."""
    return next((a for a in argv if not a.startswith("-")), None)


def make_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; only the requested command's module is imported (all of them when argv is
    None: tests and docs see every option)."""
    parser = _Parser(
        prog="recrm",
        description="Rebuild RecRM-Bench-style reward-model benchmarks from interaction logs.",
        epilog="Configuration: flags > RECRM_* environment > recrm.toml > defaults "
        f"(README: Configuration). Store: {STORE_RULE}.",
    )
    parser.add_argument("--version", action="version", version=f"recrm {package_version()}")
    subparsers = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )
    wanted = _requested(argv) if argv is not None else None
    for name, (module_name, help_text) in COMMANDS.items():
        if argv is None or name == wanted:
            module = importlib.import_module(f"pipelines.cli.{module_name}")
            module.register(subparsers)
        else:
            subparsers.add_parser(name, help=help_text)
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
    argv = list(sys.argv[1:] if argv is None else argv)
    args = make_parser(argv).parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("recrm: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the CLI's contract: one line, non-zero exit
        if os.environ.get("RECRM_DEBUG"):
            raise
        reason = one_line(exc)
        print(f"recrm {args.command}: error: {reason}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
