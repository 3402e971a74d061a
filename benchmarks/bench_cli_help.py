"""Benchmark of the CLI's start-up: wall time of `recrm --help`, `recrm --version` and
`recrm build --help` as a user runs them (a fresh interpreter through the console script), and
the modules each one imports (none of dagster, duckdb, polars, pyarrow, great_expectations,
pydantic, rich: commands import them inside `run`).

    .venv/bin/python benchmarks/bench_cli_help.py            # 10 runs each, median and max
    .venv/bin/python benchmarks/bench_cli_help.py --runs 30

Target: `recrm --help` under one second on a developer machine. The figure depends on the
machine's load; `import time` shows where start-up time goes: python -X importtime -m pipelines.cli --help
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECRM = Path(sys.executable).parent / "recrm"
HEAVY = ("dagster", "duckdb", "polars", "pyarrow", "great_expectations", "pydantic", "rich")
CASES = (["--help"], ["--version"], ["build", "--help"], ["ingest", "--help"])


def wall_times(argv: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([str(RECRM), *argv], capture_output=True, check=True, cwd=ROOT)
        times.append(time.perf_counter() - started)
    return times


def heavy_imports(argv: list[str]) -> list[str]:
    code = (
        "import sys\nfrom pipelines.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        "print('HEAVY:' + ','.join(sorted({m.split('.')[0] for m in sys.modules} & "
        f"set({HEAVY!r}))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    line = next(x for x in out.stdout.splitlines() if x.startswith("HEAVY:"))
    return [m for m in line.removeprefix("HEAVY:").split(",") if m]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    print(f"{'command':<24} {'median s':>9} {'max s':>7}  heavy modules imported")
    for argv in CASES:
        times = wall_times(argv, args.runs)
        heavy = heavy_imports(argv)
        print(
            f"{'recrm ' + ' '.join(argv):<24} {statistics.median(times):>9.3f} "
            f"{max(times):>7.3f}  {', '.join(heavy) or 'none'}"
        )


if __name__ == "__main__":
    main()
