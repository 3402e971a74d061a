"""Publish a release atomically: write everything into a temporary folder, then rename it.

A release is immutable once written. The temporary folder sits next to the target (same file
system, so the rename is atomic) and is removed if anything fails, so a crash never leaves a half
release under a version name. An existing version is replaced only with `overwrite_release`; a
rebuild whose shards are byte-identical to the existing version leaves it in place.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from assets.checks.validity.gate import release_validity
from assets.dimensions.common.labels import label_distribution
from assets.dimensions.common.left_out import left_out_counts
from assets.dimensions.common.splits import split_policy_record
from assets.ingest.capabilities import left_out_dimensions, release_dimensions
from assets.ingest.domain_settings import recorded_domain_settings
from assets.release.card import descriptions, example_rows, render_card
from assets.release.croissant import write_croissant
from assets.release.manifest import (
    MANIFEST_FILE,
    SIGNING_KEY_ENV,
    build_manifest,
    code_version,
    derive_version,
    input_files,
    inputs_fingerprint,
    llm_usage,
    manifest_json,
    read_manifest,
    release_templates,
    seal_manifest,
)
from assets.release.shards import write_splits
from core.llm.config import load_llm_config
from core.paths import private_dir
from core.settings import Settings
from core.sql import quote_ident
from core.warehouse import Warehouse
from schemas.entries import LABEL_COLUMN, SPLITS
from schemas.profiles import get_profile
from schemas.tables import benchmark_table

TMP_PREFIX = ".tmp-release-"


class ReleaseError(RuntimeError):
    pass


def _temporary_name() -> str:
    """`.tmp-release-<pid>-<uuid>`: the writer's pid tells a later run whether it is still alive."""
    return f"{TMP_PREFIX}{os.getpid()}-{uuid.uuid4().hex}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def remove_orphaned_temporaries(releases: Path) -> list[Path]:
    """Remove temporary folders left by a writer that was killed (its pid is gone)."""
    removed = []
    for path in releases.glob(f"{TMP_PREFIX}*"):
        pid = path.name.removeprefix(TMP_PREFIX).split("-", 1)[0]
        if path.is_dir() and pid.isdigit() and not _pid_alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


@dataclass
class Published:
    version: str
    path: Path
    manifest: dict
    reused: bool  # the same version with identical shards already existed


def label_sources(con: duckdb.DuckDBPyConnection, table: str) -> tuple[dict, dict]:
    """(split -> {label_source: rows}, split -> synthetic rows): synthetic entries are the
    `is_synthetic` ones, or those labelled `synthetic` where a dimension has no such column."""
    columns = {r[0] for r in con.execute(f'DESCRIBE "{table}"').fetchall()}
    synthetic = (
        "coalesce(is_synthetic, false)" if "is_synthetic" in columns
        else "label_source = 'synthetic'"
    )  # fmt: skip
    sources: dict[str, dict[str, int]] = {}
    synthetic_rows: dict[str, int] = {}
    for split, source, n, synth in con.execute(
        f'SELECT split, label_source, count(*), count(*) FILTER (WHERE {synthetic}) FROM "{table}" '
        "GROUP BY ALL ORDER BY ALL"
    ).fetchall():
        sources.setdefault(split, {})[source] = int(n)
        synthetic_rows[split] = synthetic_rows.get(split, 0) + int(synth)
    return sources, synthetic_rows


def write_dimension(
    con: duckdb.DuckDBPyConnection, dimension: str, out: Path, shard_rows: int
) -> dict:
    """Shards of every split of one dimension, its counts, label distributions and label
    sources (with the synthetic entries) per split."""
    table = benchmark_table(dimension)
    distribution = label_distribution(con, quote_ident(table), dimension, by="split")
    sources, synthetic = label_sources(con, table)
    unknown = sorted(set(distribution) - set(SPLITS))
    if unknown:
        raise ReleaseError(f"{table} has rows in unknown split(s) {unknown}")
    splits = {}
    for split, shards in write_splits(con, table, dimension, SPLITS, out, shard_rows).items():
        splits[split] = {
            "rows": sum(s.rows for s in shards),
            "label_distribution": distribution.get(split, {}),
            "label_sources": sources.get(split, {}),
            "synthetic_rows": synthetic.get(split, 0),
            "shards": [asdict(s) for s in shards],
        }
    return {
        "label_column": LABEL_COLUMN[dimension],
        "rows": sum(s["rows"] for s in splits.values()),
        "splits": splits,
    }


def _shard_digests(dimensions: dict) -> list[str]:
    return [
        f"{shard['path']}:{shard['sha256']}"
        for dim in sorted(dimensions)
        for split in SPLITS
        for shard in dimensions[dim]["splits"].get(split, {}).get("shards", [])
    ]


def publish_release(
    warehouse: Warehouse,
    settings: Settings,
    code: dict | None = None,
    created_at: datetime | None = None,
) -> Published:
    """Write the release of the `benchmark_<dimension>` tables under settings.releases_dir:
    every dimension, or those of `settings.dimensions` (the others are listed as left out, with
    each domain's reason, in the manifest and the card)."""
    chosen = release_dimensions(settings.dimensions)
    missing = [benchmark_table(d) for d in chosen if not warehouse.table_exists(benchmark_table(d))]
    if missing:
        raise ReleaseError(
            f"warehouse {warehouse.path} has no {', '.join(missing)}: build the benchmark layer first"
        )
    code = code if code is not None else code_version()
    releases = Path(settings.releases_dir)
    if not releases.exists():
        private_dir(releases)  # owner-only until the user shares a release on purpose
    releases.mkdir(parents=True, exist_ok=True)
    remove_orphaned_temporaries(releases)
    tmp = releases / _temporary_name()
    try:
        tmp.mkdir()
        with warehouse.connect(read_only=True) as con:
            dimensions = {
                d: write_dimension(con, d, tmp, settings.release_shard_rows) for d in chosen
            }
            templates = release_templates(con, [benchmark_table(d) for d in chosen])
        files = input_files(warehouse)
        version = settings.release_version or derive_version(
            settings.profile, inputs_fingerprint(files), settings, _shard_digests(dimensions)
        )
        _check_version_name(version)
        left_out = left_out_counts(warehouse)
        for dim, info in dimensions.items():
            info["left_out"] = left_out.get(dim, {})
        domains = sorted({f["domain"] for f in files} | set(recorded_domain_settings(warehouse)))
        profile = get_profile(settings.profile)
        manifest = build_manifest(
            version=version,
            settings=settings,
            files=files,
            code=code,
            dimensions=dimensions,
            usage=llm_usage(warehouse),
            created_at=created_at,
            split_policy=split_policy_record(
                warehouse, settings.seed, profile.split_fractions, domains
            ),
            domains=recorded_domain_settings(warehouse),
            left_out_dimensions=left_out_dimensions(
                Path(settings.logs_root), domains, chosen, load_llm_config().enabled
            ),
        )
        # The validity gate's table (shortcut baselines, leaks, relevance vs truth) on the
        # shards just written: one additive manifest key, and the card's "Validity" section.
        manifest["validity"] = release_validity(tmp, settings).as_dict()
        # The prompt templates of the released entries, `<id>.v<version>` -> sha256 (each
        # entry's provenance names its own; core/templates.py locks their contents).
        manifest["templates"] = templates
        (tmp / "README.md").write_text(
            render_card(manifest, example_rows(tmp, manifest)), encoding="utf-8"
        )
        # Files describing the release (croissant.json lists the shards and the card), listed
        # with their sha256 in the manifest.
        manifest["metadata_files"] = [write_croissant(tmp, manifest, descriptions())]
        # Sealed last: the digest covers every field above (issue 17).
        manifest = seal_manifest(manifest, os.environ.get(SIGNING_KEY_ENV) or None)
        (tmp / MANIFEST_FILE).write_text(manifest_json(manifest), encoding="utf-8")
        return _move_into_place(tmp, releases / version, manifest, settings.overwrite_release)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _check_version_name(version: str) -> None:
    if not version or version in (".", "..") or "/" in version or os.sep in version:
        raise ReleaseError(f"invalid release version {version!r}: use a plain folder name")
    if version.startswith("."):
        raise ReleaseError(f"invalid release version {version!r}: must not start with '.'")


def _move_into_place(tmp: Path, target: Path, manifest: dict, overwrite: bool) -> Published:
    version = manifest["version"]
    if not target.exists():
        os.rename(tmp, target)
        return Published(version, target, manifest, reused=False)
    if overwrite:
        # Two renames: the old version is only removed once the new one is in place.
        old = target.parent / _temporary_name()
        os.rename(target, old)
        os.rename(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
        return Published(version, target, manifest, reused=False)
    try:
        existing = read_manifest(target)
    except (FileNotFoundError, ValueError):
        existing = None
    if existing is not None and _shard_digests(existing.get("dimensions", {})) == _shard_digests(
        manifest["dimensions"]
    ):
        return Published(version, target, existing, reused=True)
    raise ReleaseError(
        f"release {version} already exists at {target} with different contents; choose another "
        "version or set overwrite_release (recrm build --overwrite)"
    )
