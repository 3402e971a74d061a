"""croissant.json: Croissant 1.0 metadata of every config, field and file (with its sha256),
listed in the manifest, loaded by mlcroissant, which reads the records of every config."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from assets.release.croissant import CROISSANT_FILE
from assets.release.publish import publish_release
from assets.release.shards import file_sha256
from assets.release.validate import validate_release
from core.settings import Settings
from schemas.entries import DIMENSIONS, LABEL_NAMES, release_schema

REPO = Path(__file__).resolve().parents[3]


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


# mlcroissant runs in a child process: it leaves logging state behind that writes to pytest's
# closed capture stream in later tests.
_READER = """
import json, logging, sys
import mlcroissant as mlc
from schemas.entries import DIMENSIONS, LABEL_NAMES

records = []
class Keep(logging.Handler):
    def emit(self, record):
        records.append(record.getMessage())
logging.getLogger().addHandler(Keep())
dataset = mlc.Dataset(jsonld=sys.argv[1])
text = lambda v: v.decode("utf-8") if isinstance(v, bytes) else v
out = {"record_sets": sorted(rs.uuid for rs in dataset.metadata.record_sets), "dims": {}}
for dim in DIMENSIONS:
    rows = list(dataset.records(record_set=dim))
    first = rows[0]
    prov = first[f"{dim}/provenance"]
    out["dims"][dim] = {
        "rows": len(rows),
        "keys": sorted(first),
        "ids": sorted(text(r[f"{dim}/entry_id"]) for r in rows),
        "first_id": text(first[f"{dim}/entry_id"]),
        "request_id": text(prov[f"{dim}/provenance/request_id"]),
        "source_row_ids": [text(v) for v in prov[f"{dim}/provenance/source_row_ids"]],
        "names": {
            str(r[f"{dim}_label_names/value"]): text(r[f"{dim}_label_names/name"])
            for r in dataset.records(record_set=f"{dim}_label_names")
        } if dim in LABEL_NAMES else None,
    }
out["warnings"] = "\\n".join(records)
print(json.dumps(out))
"""


def read_with_mlcroissant(path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _READER, str(path)],
        capture_output=True,
        text=True,
        cwd=str(REPO),
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_mlcroissant_reads_every_config(release):
    import pyarrow.parquet as pq

    found = read_with_mlcroissant(release.path / CROISSANT_FILE)
    # no error; the warnings left are the recommended datePublished (a rebuild must give the same
    # bytes) and the release version, which is not semver
    assert "@context" not in found["warnings"], found["warnings"]
    assert set(DIMENSIONS) <= set(found["record_sets"])
    for dim in DIMENSIONS:
        got = found["dims"][dim]
        assert got["rows"] == release.manifest["dimensions"][dim]["rows"]
        # every column of the release is a field, nested members as sub-fields
        assert set(got["keys"]) == {f"{dim}/{name}" for name in release_schema(dim).names}
        shards = [
            release.path / s["path"]
            for split in release.manifest["dimensions"][dim]["splits"].values()
            for s in split["shards"]
        ]
        table = pq.read_table(shards, columns=["entry_id", "provenance"])
        by_id = {r["entry_id"]: r for r in table.to_pylist()}
        assert set(got["ids"]) == set(by_id)
        entry = by_id[got["first_id"]]
        assert got["request_id"] == entry["provenance"]["request_id"]
        assert got["source_row_ids"] == entry["provenance"]["source_row_ids"]
        if dim in LABEL_NAMES:
            assert {int(k): v for k, v in got["names"].items()} == LABEL_NAMES[dim]


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
