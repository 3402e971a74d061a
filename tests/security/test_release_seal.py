"""Attack: a published release edited afterwards (manifest fields, a shard rewritten with its
sha256 updated in the manifest) must fail `recrm validate`; the manifest names the hash key."""

from __future__ import annotations

import importlib.util
import json
import stat
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from assets.release.publish import publish_release
from assets.release.shards import file_sha256
from assets.release.validate import validate_release
from core.settings import DEV_HASH_KEY, Settings, key_id
from pipelines.cli import main

_spec = importlib.util.spec_from_file_location(
    "recrm_benchmark_fixture",
    Path(__file__).parents[1] / "assets" / "release" / "benchmark_fixture.py",
)
benchmark_fixture = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(benchmark_fixture)

CODE = {"package": "recrm-pipeline", "version": "0.1.0", "git_commit": "a" * 40}
SECRET = "release-hash-secret"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    return benchmark_fixture.build_benchmark_warehouse(
        tmp_path_factory.mktemp("wh") / "data" / "wh.duckdb"
    )


def _publish(warehouse, tmp_path, monkeypatch, signing_key=None, hash_key=SECRET) -> Path:
    if signing_key:
        monkeypatch.setenv("RECRM_SIGNING_KEY", signing_key)
    else:
        monkeypatch.delenv("RECRM_SIGNING_KEY", raising=False)
    settings = Settings(
        releases_dir=tmp_path / "releases",
        warehouse_path=warehouse.path,
        release_version="v1",
        hash_key=hash_key,
    )
    return publish_release(warehouse, settings, code=CODE).path


def _edit(release: Path, change) -> None:
    path = release / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest, indent=2))


EDITS = {
    "llm_usage": lambda m: m["totals"]["llm_usage"].update(calls=0),
    "created_at": lambda m: m.update(created_at="2020-01-01T00:00:00Z"),
    "input fingerprint": lambda m: m["inputs"].update(fingerprint="0" * 64),
    "git commit": lambda m: m["code"].update(git_commit="b" * 40),
    "seed": lambda m: m["config"].update(seed=1),
    "key id": lambda m: m["user_id_hash"].update(dev_key=False, key_id="hmac-sha256:0"),
}


@pytest.mark.parametrize("field", list(EDITS))
def test_any_manifest_edit_is_detected(warehouse, tmp_path, monkeypatch, field):
    release = _publish(warehouse, tmp_path, monkeypatch)
    assert validate_release(release) == []
    _edit(release, EDITS[field])
    problems = validate_release(release)
    assert any("edited after it was published" in p for p in problems), problems


def test_a_rewritten_shard_with_its_sha256_updated_is_detected(warehouse, tmp_path, monkeypatch):
    release = _publish(warehouse, tmp_path, monkeypatch)
    manifest = json.loads((release / "manifest.json").read_text())
    shard_info = manifest["dimensions"]["factual_consistency"]["splits"]["train"]["shards"][0]
    shard = release / shard_info["path"]
    table = pq.read_table(shard)
    pq.write_table(table, shard, compression="gzip")  # same rows, other bytes
    shard_info["sha256"] = file_sha256(shard)
    (release / "manifest.json").write_text(json.dumps(manifest, indent=2))
    problems = validate_release(release)
    assert problems and all("the file was modified" not in p for p in problems)  # sha matches
    assert any("edited after it was published" in p for p in problems)


def test_a_resealed_manifest_fails_the_signature(warehouse, tmp_path, monkeypatch):
    """Someone who edits and re-seals with the code, without the signing key, is caught."""
    from assets.release.manifest import seal_manifest

    release = _publish(warehouse, tmp_path, monkeypatch, signing_key="signing-secret")
    assert validate_release(release) == []
    path = release / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["config"]["seed"] = 1
    path.write_text(json.dumps(seal_manifest(manifest, "attacker-key")))
    problems = validate_release(release)
    assert any("signature does not verify" in p for p in problems)
    monkeypatch.delenv("RECRM_SIGNING_KEY")
    assert validate_release(release) == []  # the digest alone cannot tell: hence signatures


def test_manifest_and_card_name_the_key_id_and_never_the_key(warehouse, tmp_path, monkeypatch):
    release = _publish(warehouse, tmp_path, monkeypatch)
    text = (release / "manifest.json").read_text()
    manifest = json.loads(text)
    assert manifest["user_id_hash"]["key_id"] == key_id(SECRET)
    assert manifest["user_id_hash"]["dev_key"] is False
    assert SECRET not in text and SECRET not in (release / "README.md").read_text()
    assert key_id(SECRET) in (release / "README.md").read_text()
    assert stat.S_IMODE((tmp_path / "releases").stat().st_mode) == 0o700


def test_a_dev_key_release_says_so(warehouse, tmp_path, monkeypatch):
    release = _publish(warehouse, tmp_path, monkeypatch, hash_key=DEV_HASH_KEY)
    assert json.loads((release / "manifest.json").read_text())["user_id_hash"]["dev_key"]
    assert "PUBLIC development key" in (release / "README.md").read_text()


def test_cli_validate_fails_on_an_edit_with_one_line(warehouse, tmp_path, monkeypatch, capsys):
    release = _publish(warehouse, tmp_path, monkeypatch)
    _edit(release, EDITS["seed"])
    assert main(["validate", str(release)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "edited after it was published" in err
