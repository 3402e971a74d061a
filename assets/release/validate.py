"""`recrm validate RELEASE_DIR`: re-check a published release against its manifest.

Checks every shard's sha256, row count and schema, that each dimension and split the manifest
declares is there (and nothing undeclared), the per-split totals and label distributions
recomputed from the shards, and the dataset card's data files. With `--expectations` (implied by
`--data-docs`), the benchmark expectation suites also run on the shards themselves.
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from assets.dimensions.common.labels import label_distribution
from assets.release.card import card_header
from assets.release.croissant import CROISSANT_FILE
from assets.release.manifest import SIGNING_KEY_ENV, read_manifest, seal_problems
from assets.release.shards import file_sha256
from schemas.entries import (
    DIMENSIONS,
    LABEL_NAME_COLUMNS,
    SCHEMA_VERSION,
    SPLITS,
    entry_schema,
)
from schemas.features import HF_METADATA_KEY, release_arrow_schema

if TYPE_CHECKING:
    from core.settings import Settings, ValidityThresholds

_SHARD_NAME = re.compile(r"^(?P<split>[a-z]+)-(?P<i>\d{5})-of-(?P<n>\d{5})\.parquet$")


class ReleaseInvalid(RuntimeError):
    pass


def validate_release(release_dir: Path) -> list[str]:
    """Every mismatch between the release folder and its manifest (empty: valid)."""
    release_dir = Path(release_dir)
    try:
        manifest = read_manifest(release_dir)
    except (FileNotFoundError, ValueError) as exc:
        return [str(exc)]
    problems: list[str] = seal_problems(manifest, os.environ.get(SIGNING_KEY_ENV) or None)
    if manifest.get("schema_version") != SCHEMA_VERSION:
        problems.append(
            f"manifest schema_version {manifest.get('schema_version')!r}; this code checks "
            f"{SCHEMA_VERSION!r}"
        )
    dims = manifest.get("dimensions") or {}
    left_out = manifest.get("left_out_dimensions") or {}
    for dim in DIMENSIONS:
        if dim not in dims and dim not in left_out:
            problems.append(f"dimension {dim} missing from the manifest")
    for dim in sorted(set(dims) - set(DIMENSIONS)):
        problems.append(f"manifest declares unknown dimension {dim!r}")
    listed: set[str] = set()
    total = 0
    for dim in [d for d in DIMENSIONS if d in dims]:
        problems += _check_dimension(release_dir, dim, dims[dim], listed)
        total += dims[dim].get("rows", 0)
    on_disk = {p.relative_to(release_dir).as_posix() for p in release_dir.rglob("*.parquet")}
    problems += [f"{p}: Parquet file not listed in the manifest" for p in sorted(on_disk - listed)]
    if manifest.get("totals", {}).get("rows") != total:
        problems.append(
            f"manifest totals.rows {manifest.get('totals', {}).get('rows')} != sum of dimensions {total}"
        )
    problems += _check_card(release_dir, manifest)
    problems += _check_metadata_files(release_dir, manifest)
    return problems


def _check_metadata_files(release_dir: Path, manifest: dict) -> list[str]:
    """The files the manifest lists under `metadata_files` (croissant.json) are there, with
    their sha256; croissant.json describes exactly the manifest's shards and the card, with
    their sha256."""
    import json

    problems = []
    for entry in manifest.get("metadata_files") or []:
        path = release_dir / entry["path"]
        if not path.is_file():
            problems.append(f"{entry['path']}: missing (listed in the manifest)")
        elif file_sha256(path) != entry["sha256"]:
            problems.append(f"{entry['path']}: sha256 differs from the manifest (modified)")
        elif entry["path"] == CROISSANT_FILE:
            described = {
                d["contentUrl"]: d.get("sha256")
                for d in json.loads(path.read_text(encoding="utf-8")).get("distribution", [])
                if d.get("@type") == "cr:FileObject"
            }
            shards = {
                s["path"]: s["sha256"]
                for info in (manifest.get("dimensions") or {}).values()
                for split in (info.get("splits") or {}).values()
                for s in split.get("shards") or []
            }
            card = release_dir / "README.md"
            if card.is_file():
                shards["README.md"] = file_sha256(card)
            differing = sorted(
                (set(described) ^ set(shards))
                | {p for p in set(described) & set(shards) if described[p] != shards[p]}
            )
            if differing:
                problems.append(
                    f"{CROISSANT_FILE}: does not describe {', '.join(differing[:3])}"
                    + (f" and {len(differing) - 3} more" if len(differing) > 3 else "")
                    + " as the release holds it (missing, extra or another sha256)"
                )
    return problems


def _check_dimension(release_dir: Path, dim: str, info: dict, listed: set[str]) -> list[str]:
    problems: list[str] = []
    splits = info.get("splits") or {}
    for split in SPLITS:
        if split not in splits:
            problems.append(f"{dim}: split {split} missing from the manifest")
    for split in sorted(set(splits) - set(SPLITS)):
        problems.append(f"{dim}: unknown split {split!r} in the manifest")
    expected_schema = release_arrow_schema(dim)
    present_paths = []
    dim_rows = 0
    for split in [s for s in SPLITS if s in splits]:
        entry = splits[split]
        shards = entry.get("shards") or []
        rows = 0
        for shard in shards:
            rel = shard["path"]
            listed.add(rel)
            path = release_dir / rel
            match = _SHARD_NAME.match(Path(rel).name)
            if Path(rel).parent.as_posix() != dim or not match or match["split"] != split:
                problems.append(f"{rel}: not a {dim}/{split}-NNNNN-of-MMMMM.parquet shard name")
            elif int(match["n"]) != len(shards):
                problems.append(
                    f"{rel}: says {int(match['n'])} shards, manifest lists {len(shards)}"
                )
            if not path.is_file():
                problems.append(f"{rel}: shard missing")
                continue
            digest = file_sha256(path)
            if digest != shard["sha256"]:
                problems.append(
                    f"{rel}: sha256 {digest[:12]}… != manifest {shard['sha256'][:12]}… "
                    "(the file was modified)"
                )
            try:
                meta = pq.read_metadata(path)
                schema = pq.read_schema(path)
            except Exception as exc:  # a corrupt file: report it, keep checking the rest
                problems.append(f"{rel}: unreadable Parquet ({exc})")
                continue
            if meta.num_rows != shard["rows"]:
                problems.append(f"{rel}: {meta.num_rows} rows, manifest says {shard['rows']}")
            if not schema.equals(expected_schema, check_metadata=False):
                problems.append(f"{rel}: schema differs from release_schema({dim})")
            elif (schema.metadata or {}).get(HF_METADATA_KEY) != expected_schema.metadata[
                HF_METADATA_KEY
            ]:
                problems.append(f"{rel}: Hugging Face features metadata missing or different")
            rows += meta.num_rows
            present_paths.append(path)
        if rows != entry.get("rows"):
            problems.append(
                f"{dim}/{split}: shards hold {rows} rows, manifest says {entry.get('rows')}"
            )
        dim_rows += rows
    if dim_rows != info.get("rows"):
        problems.append(f"{dim}: shards hold {dim_rows} rows, manifest says {info.get('rows')}")
    if present_paths and not problems:
        problems += _check_labels(dim, present_paths, splits)
    return problems


def _parquet_relation(paths: list[Path]) -> str:
    files = ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths)
    return f"read_parquet([{files}])"


def _warehouse_typed_relation(dim: str, paths: list[Path]) -> str:
    """The shards with their label columns back in the warehouse types the suites check (a
    release widens them to int64 for Hugging Face's ClassLabel)."""
    schema = entry_schema(dim)
    casts = [
        f'CAST("{name}" AS {"TINYINT[]" if pa.types.is_list(schema.field(name).type) else "TINYINT"})'
        f' AS "{name}"'
        for name in LABEL_NAME_COLUMNS
        if name in schema.names
    ]
    return f"(SELECT * REPLACE ({', '.join(casts)}) FROM {_parquet_relation(paths)})"


def _check_labels(dim: str, paths: list[Path], splits: dict) -> list[str]:
    con = duckdb.connect()
    try:
        con.execute(f"CREATE VIEW shards AS SELECT * FROM {_parquet_relation(paths)}")
        found = label_distribution(con, "shards", dim, by="split")
    finally:
        con.close()
    return [
        f"{dim}/{split}: label distribution {found.get(split, {})} != manifest "
        f"{splits[split].get('label_distribution')}"
        for split in splits
        if found.get(split, {}) != splits[split].get("label_distribution", {})
    ]


def _check_card(release_dir: Path, manifest: dict) -> list[str]:
    card = release_dir / "README.md"
    if not card.is_file():
        return ["README.md (dataset card) missing"]
    text = card.read_text(encoding="utf-8")
    parts = text.split("---\n", 2)
    if not text.startswith("---\n") or len(parts) < 3:
        return ["README.md has no YAML header"]
    try:
        header = yaml.safe_load(parts[1]) or {}
    except yaml.YAMLError as exc:
        return [f"README.md YAML header does not parse: {exc}"]
    expected = card_header(manifest)
    if header.get("configs") != expected["configs"]:
        return ["README.md configs do not list the manifest's shards"]
    if header.get("dataset_info") != expected["dataset_info"]:
        return ["README.md dataset_info (features, examples per split) differs from the manifest's"]
    return []


def validate_expectations(
    release_dir: Path, results_dir: Path | None = None, docs_dir: Path | None = None
) -> list[str]:
    """Run the benchmark suites on the release's shards; store results, render Data Docs."""
    from assets.checks.benchmark import validate_benchmark
    from assets.checks.data_docs import build_data_docs
    from assets.checks.results import store_outcome
    from schemas.profiles import get_profile

    manifest = read_manifest(release_dir)
    profile = get_profile(manifest.get("config", {}).get("profile", "small"))
    results_dir = Path(results_dir or tempfile.mkdtemp(prefix="recrm-validation-"))
    problems = []
    for dim in [d for d in DIMENSIONS if d not in (manifest.get("left_out_dimensions") or {})]:
        paths = [
            release_dir / s["path"]
            for split in manifest["dimensions"].get(dim, {}).get("splits", {}).values()
            for s in split["shards"]
        ]
        if not paths:
            problems.append(f"{dim}: no shards to validate")
            continue
        con = duckdb.connect()
        try:
            outcome = validate_benchmark(con, dim, _warehouse_typed_relation(dim, paths), profile)
        finally:
            con.close()
        store_outcome(results_dir, f"{dim}.release", outcome)
        problems += [f"{dim}: {f.describe()}" for f in outcome.failed]
    if docs_dir is not None:
        build_data_docs(results_dir, docs_dir, run_name=f"release-{manifest['version']}")
    return problems


def run_validity(
    release_dir: Path, thresholds: ValidityThresholds, truth: Path | None = None
) -> list[str]:
    """The validity gate on a release (the configuration's thresholds; the truth folder given,
    else the `_truth` folder of the log root the manifest names, if it has one): prints its
    table and returns its failed rows."""
    from assets.checks.validity.gate import describe_row, truth_dir_of, validity_report
    from core.console import console

    manifest = read_manifest(release_dir)
    config = manifest.get("config", {})
    truth_dir = Path(truth) if truth else truth_dir_of(config.get("logs_root"))
    report = validity_report(release_dir, thresholds, truth_dir, int(config.get("seed") or 0))
    console.print("[bold]validity gate[/bold]")
    for row in report.rows:
        mark = "✗" if row.failed else "✓"
        console.print(f"  {mark} " + describe_row(row), soft_wrap=True, markup=False)
    return [describe_row(r) for r in report.failures]


def run_validate(args: argparse.Namespace, settings: Settings) -> int:
    """CLI entry: print a summary, or every problem and fail with a one-line reason (the
    validity gate's thresholds are `settings.validity`)."""
    from core.console import console, print_table

    release_dir = Path(args.release_dir)
    if not release_dir.is_dir():
        raise ReleaseInvalid(f"{release_dir} is not a folder")
    problems = validate_release(release_dir)
    docs = getattr(args, "data_docs", None)
    if not problems and (getattr(args, "expectations", False) or docs):
        problems += validate_expectations(
            release_dir,
            results_dir=Path(docs) / "results" if docs else None,
            docs_dir=Path(docs) if docs else None,
        )
        if docs:
            console.print(f"Data Docs: {Path(docs) / 'index.html'}")
    if problems:
        for problem in problems:
            console.print(f"[red]✗[/red] {problem}")
        raise ReleaseInvalid(
            f"release {release_dir} is invalid ({len(problems)} problem(s)): {problems[0]}"
        )
    if not getattr(args, "skip_validity", False):
        problems += run_validity(release_dir, settings.validity, getattr(args, "truth", None))
    if problems:
        raise ReleaseInvalid(
            f"release {release_dir} fails the validity gate ({len(problems)} check(s)): "
            f"{problems[0]}"
        )
    manifest = read_manifest(release_dir)
    rows = [
        (
            dim,
            split,
            manifest["dimensions"][dim]["splits"][split]["rows"],
            len(manifest["dimensions"][dim]["splits"][split]["shards"]),
        )
        for dim in DIMENSIONS
        if dim in manifest["dimensions"]  # the others are left out (manifest says why)
        for split in SPLITS
    ]
    print_table(
        f"release {manifest['version']}: valid", ["dimension", "split", "rows", "shards"], rows
    )
    return 0
