"""The evaluation's view of a release: checked with `recrm validate`'s checks, read with DuckDB,
sampled with a seed, and turned into the gold side of the items table."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from assets.release.manifest import MANIFEST_FILE, read_manifest
from assets.release.shards import file_sha256
from assets.release.validate import _parquet_relation, validate_release
from schemas.dimensions import get_dimension

# Payload columns every evaluation of a ranking reads, besides what its scorer asks for.
RANKING_GOLD_COLUMNS = (
    "candidate_labels",
    "list_transform(candidates, lambda c: c.item_id) AS candidate_ids",
)


def gold_columns(dimension: str) -> tuple[str, ...]:
    return RANKING_GOLD_COLUMNS if get_dimension(dimension).metrics == "ranking" else ()


def by_user(dimension: str) -> bool:
    """The bootstrap resamples users in the timed dimensions (their entries share a user's
    behaviour), entries in the others."""
    return get_dimension(dimension).timed


class EvaluationError(RuntimeError):
    """Bad input to an evaluation (release, predictions, endpoint); the message is one line."""


@dataclass(frozen=True)
class Release:
    path: Path
    manifest: dict
    manifest_sha256: str

    @property
    def version(self) -> str:
        return self.manifest["version"]

    @property
    def dimensions(self) -> list[str]:
        """The dimensions the release holds (a build with --dimensions leaves others out)."""
        return list(self.manifest.get("dimensions", {}))

    def shards(self, dimension: str, split: str) -> list[Path]:
        if dimension not in self.manifest.get("dimensions", {}):
            raise EvaluationError(
                f"release {self.version} does not hold {dimension} (it holds "
                f"{', '.join(self.dimensions) or 'no dimension'})"
            )
        info = self.manifest["dimensions"][dimension]["splits"].get(split) or {}
        return [self.path / s["path"] for s in info.get("shards", [])]


def manifest_sha256(release_dir: Path) -> str:
    return file_sha256(Path(release_dir) / MANIFEST_FILE)


def open_release(release_dir: Path) -> Release:
    """The release at `release_dir`, refused (EvaluationError) when `recrm validate` fails it."""
    release_dir = Path(release_dir)
    if not release_dir.is_dir():
        raise EvaluationError(f"release {release_dir} is not a folder")
    problems = validate_release(release_dir)
    if problems:
        raise EvaluationError(
            f"release {release_dir} fails recrm validate ({len(problems)} problem(s)); "
            f"first: {problems[0]}"
        )
    return Release(release_dir, read_manifest(release_dir), manifest_sha256(release_dir))


def label_columns(dimension: str) -> tuple[str, ...]:
    return gold_columns(dimension) or ("label",)


def read_entries(
    release: Release,
    dimension: str,
    split: str,
    columns: tuple[str, ...] = (),
    limit: int | None = None,
    seed: int = 0,
) -> pl.DataFrame:
    """Entries of one dimension and split, ordered by entry_id: entry_id, domain, user_id_hash,
    the gold columns and `columns`. With `limit`, a seeded sample of that many (the same seed
    picks the same entries, whatever the shard layout)."""
    paths = release.shards(dimension, split)
    wanted = ["entry_id", "domain", "provenance.user_id_hash AS user_id_hash"]
    wanted += [c for c in (*label_columns(dimension), *columns) if c not in wanted]
    select = ", ".join(wanted)
    if not paths:
        raise EvaluationError(f"release {release.version} has no {dimension}/{split} entries")
    query = f"SELECT {select} FROM {_parquet_relation(paths)}"
    if limit is not None:
        query = f"SELECT * FROM ({query}) ORDER BY sha256($seed || chr(31) || entry_id) LIMIT {int(limit)}"
    con = duckdb.connect()
    try:
        params = {"seed": str(seed)} if limit is not None else None
        sql = f"SELECT * FROM ({query}) ORDER BY entry_id"
        frame = pl.from_arrow(con.sql(sql, params=params).to_arrow_table())
    finally:
        con.close()
    return frame


def entry_ids(release: Release, split: str) -> pl.DataFrame:
    """entry_id and dimension of every entry of a split (all dimensions)."""
    parts = []
    con = duckdb.connect()
    try:
        for dimension in release.manifest["dimensions"]:
            paths = release.shards(dimension, split)
            if paths:
                sql = f"SELECT entry_id, '{dimension}' AS dimension FROM {_parquet_relation(paths)}"
                parts.append(pl.from_arrow(con.sql(sql).to_arrow_table()))
    finally:
        con.close()
    return (
        pl.concat(parts)
        if parts
        else pl.DataFrame(schema={"entry_id": pl.String, "dimension": pl.String})
    )


def gold_items(dimension: str, entries: pl.DataFrame) -> pl.DataFrame:
    """The gold side of the items table: entry_id, dimension, domain, unit, gold / gold_levels."""
    unit = pl.coalesce("user_id_hash", "entry_id") if by_user(dimension) else pl.col("entry_id")
    gold = (
        [pl.lit(None, pl.Int8).alias("gold"), pl.col("candidate_labels").alias("gold_levels")]
        if get_dimension(dimension).metrics == "ranking"
        else [
            pl.col("label").cast(pl.Int8).alias("gold"),
            pl.lit(None, pl.List(pl.Int8)).alias("gold_levels"),
        ]
    )
    return entries.select(
        "entry_id",
        pl.lit(dimension).alias("dimension"),
        "domain",
        unit.alias("unit"),
        *gold,
    )
