"""Cost of the release's personal-data check (assets/checks/personal_data.py) on a release.

Usage: .venv/bin/python benchmarks/bench_personal_data.py releases/<version>
Prints, per dimension: rows, distinct candidate snippets the detector judged, seconds, findings.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import duckdb

from assets.checks.personal_data import scan_relation
from schemas.entries import DIMENSIONS


def main(release: Path) -> None:
    con = duckdb.connect()
    total = time.perf_counter()
    for dim in DIMENSIONS:
        rel = f"read_parquet('{release / dim}/*.parquet')"
        rows = con.execute(f"SELECT count(*) FROM {rel}").fetchall()[0][0]
        start = time.perf_counter()
        report = scan_relation(con, rel, dim)
        took = time.perf_counter() - start
        print(
            f"{dim:24s} {rows:>9,} rows {report.values_scanned:>9,} snippets {took:7.1f} s "
            f"findings {report.hits or 'none'}"
        )
    print(f"total {time.perf_counter() - total:.1f} s")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
