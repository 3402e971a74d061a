"""The README's quick start, end to end: `recrm build` on the shipped sample logs publishes a
release that loads with the real readers (datasets, pyarrow, DuckDB, polars), whose counts match
its manifest, that `recrm validate` accepts, and that a rebuild reproduces byte for byte."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest

from assets.release.manifest import seal_problems
from pipelines.cli import main
from schemas.entries import DIMENSIONS

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow
# `sample_release` (tests/conftest.py): one `recrm build` of sample_logs for the session.


def test_release_has_every_dimension_and_split(sample_release: Path):
    manifest = json.loads((sample_release / "manifest.json").read_text())
    assert set(manifest["dimensions"]) == set(DIMENSIONS)
    for dim in DIMENSIONS:
        splits = manifest["dimensions"][dim]["splits"]
        assert set(splits) == {"train", "validation", "test"}, dim
        assert all(s["rows"] > 0 for s in splits.values()), dim
    # Every input file of the sample is fingerprinted.
    fingerprinted = {Path(i["path"]).name for i in manifest["inputs"]["files"]}
    shipped = {p.name for p in (REPO / "sample_logs").glob("*/*") if p.is_file()}
    assert shipped - {"domain.toml", "_SUCCESS"} <= fingerprinted
    # and each domain's settings file, beside its settings
    for domain, recorded in manifest["domains"].items():
        assert recorded["source_file"] == f"{domain}/domain.toml" and len(recorded["sha256"]) == 64


def test_release_loads_with_real_readers(sample_release: Path):
    import datasets

    manifest = json.loads((sample_release / "manifest.json").read_text())
    for dim in DIMENSIONS:
        expected = {s: v["rows"] for s, v in manifest["dimensions"][dim]["splits"].items()}
        by_card = datasets.load_dataset(str(sample_release), dim)
        assert {s: by_card[s].num_rows for s in by_card} == expected
        files = sorted((sample_release / dim).glob("*.parquet"))
        assert pq.ParquetDataset(files).read().num_rows == sum(expected.values())
        glob = str(sample_release / dim / "*.parquet")
        (count,) = (
            duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{glob}')").fetchone()
        )
        assert count == sum(expected.values())
        frame = pl.read_parquet(glob)
        assert frame.group_by("split").len().sort("split").rows() == sorted(expected.items())


def test_recrm_validate_accepts_then_catches_tampering(sample_release: Path, tmp_path: Path):
    assert main(["validate", str(sample_release)]) == 0
    copy = tmp_path / sample_release.name
    shutil.copytree(sample_release, copy)
    shard = sorted((copy / "item_ranking").glob("*.parquet"))[0]
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF
    shard.write_bytes(bytes(data))
    assert main(["validate", str(copy)]) != 0


def test_rebuild_is_byte_identical(
    sample_release: Path, sample_release_builder, tmp_path: Path, monkeypatch
):
    """The session's release was built on the default store (the storage root `data/tables`);
    the rebuild goes into a named DuckDB file (the embedded store): the same release, shard for
    shard, whichever store built it."""
    monkeypatch.chdir(tmp_path)
    again = sample_release_builder(
        tmp_path, tmp_path / "releases", "--warehouse", str(tmp_path / "warehouse.duckdb")
    )
    assert (tmp_path / "warehouse.duckdb").is_file() and not (tmp_path / "data" / "tables").exists()
    assert (sample_release.parents[1] / "data" / "tables" / "_catalog").is_dir()
    assert not (sample_release.parents[1] / "data" / "warehouse.duckdb").exists()
    first = json.loads((sample_release / "manifest.json").read_text())
    second = json.loads((again / "manifest.json").read_text())
    assert (first["config"]["storage_root"], second["config"]["storage_root"]) == (
        "data/tables",
        None,
    )
    for m in (first, second):
        # Both seals hold; they differ because they cover created_at and the paths (issue 17).
        assert seal_problems(m) == []
        m.pop("seal")
        m.pop("created_at")
        m["config"].pop("warehouse_path", None)
        m["config"].pop("storage_root", None)
        m["config"].pop("releases_dir", None)
    assert first == second
