"""The files of evaluations under the results folder (default `results/`):

    results/
      <release version>/<name>/summary.json    metrics with intervals, counts, configuration
      <release version>/<name>/items.parquet   one row per evaluated entry (ITEMS_SCHEMA)
      <release version>/leaderboard.{json,md,png}   `recrm leaderboard`
      .scorers/<name>.json                      the spec each name was last evaluated with
      .llm_cache.duckdb                         the judges' response cache (resume, reruns)

A result is written to a temporary folder beside its place and renamed into it, replacing the
previous result of that name only once the new one is complete.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from assets.evaluation.spec import EvalSpec, check_name
from schemas.evaluation import ITEMS_SCHEMA

SUMMARY_FILE = "summary.json"
ITEMS_FILE = "items.parquet"
SCORERS_DIR = ".scorers"
CACHE_FILE = ".llm_cache.duckdb"
_TMP = ".tmp-result-"


def result_dir(results_dir: Path, version: str, name: str) -> Path:
    return Path(results_dir) / version / check_name(name)


def write_result(
    results_dir: Path, version: str, name: str, items: pl.DataFrame, summary: dict
) -> Path:
    """Write items.parquet and summary.json atomically; returns the result folder."""
    target = result_dir(results_dir, version, name)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f"{_TMP}{os.getpid()}-{uuid.uuid4().hex}"
    try:
        tmp.mkdir()
        table = items.select(ITEMS_SCHEMA.names).to_arrow().cast(ITEMS_SCHEMA)
        pq.write_table(table, tmp / ITEMS_FILE, compression="zstd")
        text = json.dumps(summary, indent=2, sort_keys=False, ensure_ascii=False) + "\n"
        (tmp / SUMMARY_FILE).write_text(text, encoding="utf-8")
        if target.exists():
            old = target.parent / f"{_TMP}{os.getpid()}-{uuid.uuid4().hex}"
            os.rename(target, old)
            os.rename(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def read_summary(folder: Path) -> dict:
    path = Path(folder) / SUMMARY_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} not found: {folder} is not an evaluation result") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from exc


def read_items(folder: Path) -> pl.DataFrame:
    return pl.read_parquet(Path(folder) / ITEMS_FILE)


def summaries(version_dir: Path) -> list[dict]:
    """Every result's summary under results/<version>/, by name."""
    return [
        read_summary(p)
        for p in sorted(Path(version_dir).iterdir())
        if p.is_dir() and not p.name.startswith(".") and (p / SUMMARY_FILE).is_file()
    ]


# -- the registry of scorer names (the Dagster partitions) ---------------------------------------
def spec_path(results_dir: Path, name: str) -> Path:
    return Path(results_dir) / SCORERS_DIR / f"{check_name(name)}.json"


def register_spec(results_dir: Path, spec: EvalSpec) -> Path:
    path = spec_path(results_dir, spec.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    tmp.write_text(spec.model_dump_json(indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def load_spec(results_dir: Path, name: str) -> EvalSpec:
    path = spec_path(results_dir, name)
    if not path.is_file():
        raise FileNotFoundError(
            f"no evaluation named {name!r} under {results_dir} (run `recrm eval ... --name {name}`)"
        )
    return EvalSpec.model_validate_json(path.read_text(encoding="utf-8"))


def registered_names(results_dir: Path) -> list[str]:
    folder = Path(results_dir) / SCORERS_DIR
    return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []
