"""croissant.json: Croissant 1.0 metadata of every config, field and file (with its sha256),
listed in the manifest, loaded by mlcroissant, which reads the records of every config."""

from __future__ import annotations

import json
import logging

import pytest

from assets.release.croissant import CROISSANT_FILE
from assets.release.publish import publish_release
from assets.release.shards import file_sha256
from assets.release.validate import validate_release
from core.settings import Settings
from schemas.entries import DIMENSIONS, LABEL_NAMES, release_schema


@pytest.fixture
def release(benchmark_warehouse, tmp_path):
    settings = Settings(
        warehouse_path=benchmark_warehouse.path,
        releases_dir=tmp_path / "releases",
        release_shard_rows=7,
    )
    return publish_release(benchmark_warehouse, settings)


def _text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else value


def test_mlcroissant_reads_every_config(release, caplog):
    import mlcroissant as mlc
    import pyarrow.parquet as pq

    path = release.path / CROISSANT_FILE
    with caplog.at_level(logging.WARNING):
        dataset = mlc.Dataset(jsonld=str(path))
    # no error; the warnings left are the recommended datePublished (a rebuild must give the same
    # bytes) and the release version, which is not semver
    warnings = "\n".join(r.getMessage() for r in caplog.records)
    assert "@context" not in warnings, warnings
    ids = {rs.uuid for rs in dataset.metadata.record_sets}
    assert set(DIMENSIONS) <= ids
    for dim in DIMENSIONS:
        records = list(dataset.records(record_set=dim))
        assert len(records) == release.manifest["dimensions"][dim]["rows"]
        # every column of the release is a field, nested members as sub-fields
        first = records[0]
        assert set(first) == {f"{dim}/{name}" for name in release_schema(dim).names}
        shards = [
            release.path / s["path"]
            for split in release.manifest["dimensions"][dim]["splits"].values()
            for s in split["shards"]
        ]
        table = pq.read_table(shards, columns=["entry_id", "provenance"])
        by_id = {r["entry_id"]: r for r in table.to_pylist()}
        seen = {_text(r[f"{dim}/entry_id"]) for r in records}
        assert seen == set(by_id)
        entry = by_id[_text(first[f"{dim}/entry_id"])]
        provenance = first[f"{dim}/provenance"]
        assert (
            _text(provenance[f"{dim}/provenance/request_id"]) == entry["provenance"]["request_id"]
        )
        assert [_text(v) for v in provenance[f"{dim}/provenance/source_row_ids"]] == entry[
            "provenance"
        ]["source_row_ids"]
        if dim in LABEL_NAMES:
            names = {
                r[f"{dim}_label_names/value"]: _text(r[f"{dim}_label_names/name"])
                for r in dataset.records(record_set=f"{dim}_label_names")
            }
            assert names == LABEL_NAMES[dim]


def test_every_shard_is_a_file_object_with_its_sha256_and_the_manifest_lists_croissant(release):
    path = release.path / CROISSANT_FILE
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["conformsTo"] == "http://mlcommons.org/croissant/1.0"
    files = {d["contentUrl"]: d for d in doc["distribution"] if d["@type"] == "cr:FileObject"}
    shards = [
        s
        for info in release.manifest["dimensions"].values()
        for split in info["splits"].values()
        for s in split["shards"]
    ]
    assert set(files) == {s["path"] for s in shards} | {"README.md"}
    card = release.path / "README.md"
    assert files["README.md"]["sha256"] == file_sha256(card)
    assert files["README.md"]["encodingFormat"] == "text/markdown"
    for s in shards:
        assert files[s["path"]]["sha256"] == s["sha256"] == file_sha256(release.path / s["path"])
        size = (release.path / s["path"]).stat().st_size
        assert files[s["path"]]["contentSize"] == f"{size} B"
    (entry,) = release.manifest["metadata_files"]
    assert entry == {
        "path": CROISSANT_FILE,
        "sha256": file_sha256(path),
        "bytes": path.stat().st_size,
    }
    manifest = json.loads((release.path / "manifest.json").read_text())
    assert manifest["metadata_files"] == [entry]


def test_validate_catches_a_modified_or_missing_croissant(release):
    path = release.path / CROISSANT_FILE
    assert validate_release(release.path) == []
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["name"] = "edited"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert validate_release(release.path) == [
        "croissant.json: sha256 differs from the manifest (modified)"
    ]
    path.unlink()
    assert validate_release(release.path) == ["croissant.json: missing (listed in the manifest)"]


def test_validate_catches_an_edited_card_through_croissant(release):
    card = release.path / "README.md"
    card.write_text(card.read_text(encoding="utf-8") + "\nedited\n", encoding="utf-8")
    assert validate_release(release.path) == [
        "croissant.json: does not describe README.md as the release holds it (missing, extra or"
        " another sha256)"
    ]
