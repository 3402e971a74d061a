"""`recrm leaderboard results/<release version> [--split S] [--compare A B]`.

Builds leaderboard.json, leaderboard.md (the paper's columns, x100, 95% intervals) and
leaderboard.png from the summaries of every result of that release; with --compare, the paired
bootstrap comparison of two results instead (B - A on the entries both scored).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from assets.evaluation.compare import compare_results
from assets.evaluation.leaderboard import build_leaderboard, leaderboard_markdown, write_leaderboard
from assets.evaluation.release import EvaluationError
from pipelines.cli.common import console, print_table
from schemas.entries import SPLITS


def register(subparsers) -> None:
    p = subparsers.add_parser("leaderboard", help="compare the evaluation results of a release")
    p.add_argument("version_dir", type=Path, help="results/<release version>")
    p.add_argument("--split", choices=SPLITS, default="test", help="default: test")
    p.add_argument(
        "--compare", nargs=2, metavar=("A", "B"), help="paired bootstrap comparison of two names"
    )
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed of --compare")
    p.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples of --compare")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.compare:
        return _compare(args)
    board = build_leaderboard(args.version_dir, args.split)
    paths = write_leaderboard(args.version_dir, board)
    console.print(leaderboard_markdown(board), markup=False, soft_wrap=True)
    for path in paths:
        console.print(f"wrote {path}")
    return 0


def _compare(args: argparse.Namespace) -> int:
    a, b = (args.version_dir / name for name in args.compare)
    for folder in (a, b):
        if not (folder / "summary.json").is_file():
            raise EvaluationError(f"{folder} is not an evaluation result")
    out = compare_results(a, b, args.seed, args.resamples)
    rows = []
    for dim, section in out["dimensions"].items():
        for metric, m in section["metrics"].items():
            if m["difference"] is None:
                continue
            rows.append(
                (
                    dim,
                    metric,
                    f"{m['a'] * 100:.2f}",
                    f"{m['b'] * 100:.2f}",
                    f"{m['difference'] * 100:+.2f}",
                    f"[{m['low'] * 100:+.2f}, {m['high'] * 100:+.2f}]",
                    f"{m['p_value']:.3f}",
                    section["entries"],
                )
            )
    print_table(
        f"{out['b']} - {out['a']} (paired bootstrap, {args.resamples} resamples)",
        ["dimension", "metric", out["a"], out["b"], "B - A", "95% interval", "p", "entries"],
        rows,
    )
    path = args.version_dir / f"compare-{args.compare[0]}-vs-{args.compare[1]}.json"
    path.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    console.print(f"wrote {path}")
    return 0
