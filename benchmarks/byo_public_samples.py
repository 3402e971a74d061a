"""Each importer on the real public samples (../shared/data/public/), end to end: `recrm import`,
`recrm ingest`, `recrm build`; prints per sample the quarantined rows, the dimensions the
release holds and those left out, entries and labels per dimension, and the first prompt's
wording and time line. Run: `.venv/bin/python benchmarks/byo_public_samples.py [OUT_DIR]`
(RECRM_HASH_KEY set, or --allow-dev-key is passed for this demo build)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import sys
import time
from pathlib import Path

import duckdb

PUBLIC = Path(os.environ.get("RECRM_PUBLIC_DATA", "/work/shared/data/public"))
SAMPLES = {
    "taobao": ("taobao", PUBLIC / "taobao_userbehavior" / "UserBehavior_head84k.csv"),
    "yelp": ("yelp", PUBLIC / "yelp_boston_2015"),
    "esci": ("esci", PUBLIC / "esci_dev" / "esci_dev.csv"),
}


def _cli(args: list[str]) -> tuple[int, str, str]:
    from pipelines.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()


def run_sample(name: str, fmt: str, src: Path, work: Path) -> dict:
    logs, wh, releases = work / name / "logs", work / name / "wh.duckdb", work / name / "releases"
    started = time.monotonic()
    code, out, err = _cli(
        ["import", "--format", fmt, str(src), "--domain", name, "--out", str(logs)]
    )
    assert code == 0, err
    code, out, err = _cli(
        ["ingest", "--logs", str(logs), "--warehouse", str(wh), "--json", "--allow-dev-key"]
    )
    assert code == 0, err
    ingest = json.loads(out)
    quarantined = sum(r.get("quarantined", 0) for r in ingest.get("ingest", []))
    code, out, err = _cli(["build", "--logs", str(logs), "--warehouse", str(wh),
                           "--out", str(releases), "--version", f"{name}-v1", "--overwrite",
                           "--allow-dev-key"])  # fmt: skip
    seconds = time.monotonic() - started
    if code != 0:
        return {"sample": name, "failed": err.strip().splitlines()[-1], "out": out[-2000:]}
    release = releases / f"{name}-v1"
    manifest = json.loads((release / "manifest.json").read_text())
    con = duckdb.connect()
    dims = {}
    for dim in manifest["dimensions"]:
        files = f"{release}/{dim}/*.parquet"
        label = "candidate_labels" if dim == "item_ranking" else "label"
        flat = f"unnest({label})" if dim == "item_ranking" else label
        labels = dict(con.execute(
            f"SELECT CAST(l AS VARCHAR) || ' ' || label_source, count(*) FROM "
            f"(SELECT {flat} AS l, label_source FROM read_parquet('{files}')) GROUP BY 1 ORDER BY 1"
        ).fetchall())  # fmt: skip
        rows, prompt = con.execute(
            f"SELECT count(*), min(prompt) FROM read_parquet('{files}')"
        ).fetchone()
        wording = re.search(r"agent on ([^\n]*?\))", prompt)
        when = re.search(r"time: [^\n]*local time[^\n]*", prompt)
        dims[dim] = {
            "rows": rows,
            "labels": labels,
            "wording": wording.group(1) if wording else None,
            "time": when.group(0).strip() if when else None,
        }
    return {
        "sample": name,
        "seconds": round(seconds, 1),
        "quarantined": quarantined,
        "ingest": {r["table"]: r.get("accepted") for r in ingest.get("ingest", [])},
        "dimensions": dims,
        "left_out": {d: r.get(name) for d, r in manifest.get("left_out_dimensions", {}).items()},
    }


def main() -> None:
    work = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/recrm-byo-samples").resolve()
    work.mkdir(parents=True, exist_ok=True)
    os.chdir(work)  # no recrm.toml, an ephemeral Dagster instance
    for name, (fmt, src) in SAMPLES.items():
        if not src.exists():
            print(f"{name}: sample {src} absent, skipped")
            continue
        print(json.dumps(run_sample(name, fmt, src, work), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
