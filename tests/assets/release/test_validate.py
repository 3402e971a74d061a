"""`recrm validate`: a published release passes; any tampering fails with a clear message."""

import json
import shutil

import pyarrow.parquet as pq
import pytest

from assets.release.publish import publish_release
from assets.release.validate import validate_release
from core.settings import Settings
from pipelines.cli import main
from schemas.entries import DIMENSIONS

CODE = {"package": "recrm-pipeline", "version": "0.1.0", "git_commit": None}


@pytest.fixture
def release_dir(benchmark_warehouse, tmp_path):
    settings = Settings(
        releases_dir=tmp_path / "releases",
        warehouse_path=benchmark_warehouse.path,
        release_shard_rows=7,
        release_version="v1",
    )
    return publish_release(benchmark_warehouse, settings, code=CODE).path


def _first_shard(release_dir, dim="factual_consistency"):
    m = json.loads((release_dir / "manifest.json").read_text())
    return release_dir / m["dimensions"][dim]["splits"]["train"]["shards"][0]["path"]


def test_valid_release_passes(release_dir, capsys):
    assert validate_release(release_dir) == []
    assert main(["validate", str(release_dir)]) == 0
    assert "valid" in capsys.readouterr().out


def test_tampered_shard_fails(release_dir, capsys):
    shard = _first_shard(release_dir)
    table = pq.read_table(shard)
    pq.write_table(table.slice(1), shard)  # one row dropped, a valid Parquet file
    problems = validate_release(release_dir)
    assert any("sha256" in p and shard.name in p for p in problems)
    assert any("rows, manifest says" in p for p in problems)
    assert main(["validate", str(release_dir)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("recrm validate: error: release") and "sha256" in err


def test_flipped_byte_fails(release_dir):
    shard = _first_shard(release_dir, "item_ranking")
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF
    shard.write_bytes(bytes(data))
    assert any("sha256" in p for p in validate_release(release_dir))


def test_missing_and_unlisted_files_fail(release_dir):
    shard = _first_shard(release_dir)
    shutil.move(shard, release_dir / "factual_consistency" / "extra.parquet")
    problems = validate_release(release_dir)
    assert any("shard missing" in p for p in problems)
    assert any("extra.parquet: Parquet file not listed" in p for p in problems)


def test_manifest_missing_a_dimension_fails(release_dir):
    path = release_dir / "manifest.json"
    m = json.loads(path.read_text())
    del m["dimensions"]["query_item_relevance"]
    path.write_text(json.dumps(m))
    problems = validate_release(release_dir)
    assert "dimension query_item_relevance missing from the manifest" in problems


def test_schema_change_fails(release_dir):
    shard = _first_shard(release_dir, "query_item_relevance")
    table = pq.read_table(shard).drop_columns(["label_confidence"])
    pq.write_table(table, shard)
    assert any("schema differs" in p for p in validate_release(release_dir))


def test_not_a_release(tmp_path):
    assert main(["validate", str(tmp_path)]) == 1
    assert "manifest.json not found" in validate_release(tmp_path)[0]


@pytest.mark.slow
def test_expectations_and_data_docs_on_the_shards(release_dir, tmp_path):
    docs = tmp_path / "docs"
    assert main(["validate", str(release_dir), "--data-docs", str(docs)]) == 0
    assert (docs / "index.html").is_file()
    assert len(list((docs / "results").glob("*.json"))) == len(DIMENSIONS)
    (page,) = (docs / "validations" / "benchmark_item_ranking").rglob("item_ranking.release.html")
    text = page.read_text()
    assert "benchmark_item_ranking" in text
    assert "release-" in text and "__none__" not in text  # the run is named by the release


def test_card_out_of_step_with_manifest_fails(release_dir):
    card = release_dir / "README.md"
    card.write_text(card.read_text().replace("train-00000-of-00003.parquet", "train-x.parquet", 1))
    assert "README.md configs do not list the manifest's shards" in validate_release(release_dir)
