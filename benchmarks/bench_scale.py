"""Scale benchmark: the paper profile built from drops of 1x, 4x and 10x the paper's input.

For each scale, in child processes: `recrm generate-logs` with scale x the base users per domain
(1x = 16,500 users per domain, 3 domains, 14 days, seed 7: the drop `bench_build_paper.py`
builds, the smallest that supplies the paper profile's counts once the split policy holds out
about 44% of the candidates; 9,500 users per domain, the drop of the earlier paper-scale figures,
now supplies 723,438 of the 960,862 behaviour entries and the build stops with BenchmarkTooSmall), then `recrm build --profile paper` (ingest -> release). Printed per
scale: the build's wall time, its CPU time (user + system of the process and every process it
started), the peak resident memory of its process tree (sampled every 0.2 s) and of its largest
single process (wait4's max RSS), the raw rows in, and the cost relative to 1x, beside the load
average before and after (the machine is shared: wall time moves with it, CPU time less).

Goals (issue 15): cost grows no faster than the input (time ratio <= scale ratio), and every
process stays under 4 GiB at 10x.

The build writes to the default store, a storage root of Parquet tables (`--store root`), or to
the embedded DuckDB file (`--store file`).

Usage: .venv/bin/python benchmarks/bench_scale.py [--scales 1,4,10] [--base-users 16500]
       [--store root|file] [--workdir DIR] [--keep]
"""

from __future__ import annotations

import os as _os

# Synthetic logs: building them with the public development hash key is fine (issue 17).
_os.environ.setdefault("RECRM_ALLOW_DEV_KEY", "1")

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from process_tree import TreeSampler  # beside this script

REPO = Path(__file__).resolve().parent.parent
RECRM = str(Path(sys.executable).with_name("recrm"))
GIB = 2**30


@dataclass
class Measured:
    wall: float
    cpu: float
    tree_peak: int  # bytes, the process tree at once
    process_peak: int  # bytes, the largest single process (wait4's max RSS)
    returncode: int


def run_measured(cmd: list[str], cwd: Path, log: Path) -> Measured:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    start = time.perf_counter()
    with log.open("w") as fh:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=fh, stderr=subprocess.STDOUT, env=env)
        with TreeSampler(proc.pid) as sampler:
            _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    # wait4 counts the child and the descendants it waited for; the sampler also sees workers
    # that were not waited for. The larger of the two is the CPU time.
    cpu = max(usage.ru_utime + usage.ru_stime, sampler.cpu_seconds())
    peak = usage.ru_maxrss * 1024
    return Measured(wall, cpu, max(peak, sampler.peak()), peak, os.waitstatus_to_exitcode(status))


def raw_rows(logs: Path) -> int:
    """Rows of every raw log file of the drop (DuckDB reads them)."""
    import duckdb

    readers = {".parquet": "read_parquet", ".csv.gz": "read_csv_auto", ".csv": "read_csv_auto",
               ".jsonl.gz": "read_json_auto", ".jsonl": "read_json_auto"}  # fmt: skip
    con = duckdb.connect()
    total = 0
    for f in sorted(p for p in logs.glob("*/*") if p.is_file()):
        suffix = next((s for s in readers if f.name.endswith(s)), None)
        if suffix is not None:
            total += con.execute(f"SELECT count(*) FROM {readers[suffix]}(?)", [str(f)]).fetchone()[
                0
            ]
    con.close()
    return total


def tail(path: Path, n: int = 15) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-n:])


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", default="1,4,10", help="comma-separated multiples of the base")
    ap.add_argument("--base-users", type=int, default=16500, help="users per domain at 1x")
    ap.add_argument("--days", type=int, default=14)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--profile", default="paper")
    ap.add_argument("--store", choices=("root", "file"), default="root",
                    help="root: the default store (Parquet tables under a storage root); "
                    "file: the embedded DuckDB file")  # fmt: skip
    ap.add_argument("--workdir", type=Path, help="keep everything here (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="do not delete the drops and builds")
    args = ap.parse_args(argv)
    scales = [int(s) for s in args.scales.split(",")]

    root = args.workdir or Path(tempfile.mkdtemp(prefix="recrm-scale-"))
    root.mkdir(parents=True, exist_ok=True)
    print(f"workdir {root}; cores {os.cpu_count()}; base {args.base_users:,} users per domain; "
          f"store {args.store}")  # fmt: skip
    rows: list[tuple] = []
    try:
        for scale in scales:
            workdir = root / f"x{scale}"
            shutil.rmtree(workdir, ignore_errors=True)
            workdir.mkdir()
            logs = workdir / "logs"
            users = args.base_users * scale
            load_before = load()
            gen = run_measured(
                [RECRM, "generate-logs", "--out", str(logs), "--users", str(users),
                 "--days", str(args.days), "--seed", str(args.seed), "--overwrite"],
                workdir, workdir / "generate.log",
            )  # fmt: skip
            if gen.returncode:
                print(f"{scale}x: generate-logs failed:\n{tail(workdir / 'generate.log')}")
                return 1
            n_raw = raw_rows(logs)
            print(f"{scale}x: {users:,} users per domain, {n_raw:,} raw rows; generate-logs "
                  f"{gen.wall:.1f} s", flush=True)  # fmt: skip
            store = (["--storage-root", str(workdir / "tables")] if args.store == "root"
                     else ["--warehouse", str(workdir / "warehouse.duckdb")])  # fmt: skip
            build = run_measured(
                [RECRM, "build", "--logs", str(logs), *store, "--profile", args.profile,
                 "--out", str(workdir / "releases")],
                workdir, workdir / "build.log",
            )  # fmt: skip
            load_after = load()
            if build.returncode:
                print(f"{scale}x: build failed after {build.wall:.1f} s wall, {build.cpu:.1f} s "
                      f"CPU, peak {build.tree_peak / 2**20:,.0f} MiB (exit {build.returncode}); "
                      f"load average {load_before} -> {load_after}:\n"
                      f"{tail(workdir / 'build.log')}")  # fmt: skip
                return 1
            print(f"{scale}x: build {build.wall:.1f} s wall, {build.cpu:.1f} s CPU, peak "
                  f"{build.tree_peak / 2**20:,.0f} MiB (tree), {build.process_peak / 2**20:,.0f}"
                  f" MiB (largest process); load average {load_before} -> {load_after}",
                  flush=True)  # fmt: skip
            rows.append((scale, users, n_raw, build, load_before, load_after))
            if not args.keep:
                shutil.rmtree(workdir, ignore_errors=True)
        base = rows[0]
        print()
        print(
            "| scale | users/domain | raw rows | wall (s) | CPU (s) | peak tree (MiB) | "
            "peak process (MiB) | wall / 1x | CPU / 1x | load avg before -> after |"
        )
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for scale, users, n_raw, m, before, after in rows:
            print(f"| {scale}x | {users:,} | {n_raw:,} | {m.wall:.1f} | {m.cpu:.1f} | "
                  f"{m.tree_peak / 2**20:,.0f} | {m.process_peak / 2**20:,.0f} | "
                  f"{m.wall / base[3].wall:.2f} | {m.cpu / base[3].cpu:.2f} | "
                  f"{before} -> {after} |")  # fmt: skip
        print()
        for scale, _, n_raw, m, _, _ in rows[1:]:
            input_ratio = n_raw / base[2]
            grows = "no faster" if m.cpu / base[3].cpu <= input_ratio else "FASTER"
            print(f"{scale}x: input {input_ratio:.2f}x, CPU {m.cpu / base[3].cpu:.2f}x: cost "
                  f"grows {grows} than the input")  # fmt: skip
        worst = max(r[3].process_peak for r in rows)
        print(f"largest single process: {worst / 2**20:,.0f} MiB (goal < 4 GiB: "
              f"{'met' if worst < 4 * GIB else 'NOT met'})")  # fmt: skip
        return 0
    finally:
        if args.workdir is None and not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
