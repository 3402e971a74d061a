"""Publishing: layout, manifest, card, loaders, reproducibility, atomicity, immutability."""

import copy
import json
import os
import re

import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest

import assets.release.shards as shards_module
from assets.release.manifest import code_version
from assets.release.publish import TMP_PREFIX, ReleaseError, publish_release
from core.settings import Settings
from schemas.entries import DIMENSIONS, SCHEMA_VERSION, SPLITS
from schemas.features import huggingface_metadata, release_arrow_schema

SHARD = re.compile(r"^(train|validation|test)-\d{5}-of-\d{5}\.parquet$")
CODE = {"package": "recrm-pipeline", "version": "0.1.0", "git_commit": "0" * 40}


def _settings(tmp_path, **kw):
    base = {
        "releases_dir": tmp_path / "releases",
        "warehouse_path": tmp_path / "data" / "wh.duckdb",
        "release_shard_rows": 7,
    }
    return Settings(**(base | kw))


def test_release_layout_manifest_and_card(benchmark_warehouse, tmp_path):
    published = publish_release(benchmark_warehouse, _settings(tmp_path), code=CODE)
    root = published.path
    assert published.version.startswith("small-") and len(published.version) == len("small-") + 12
    assert root == tmp_path / "releases" / published.version
    assert not [p for p in root.parent.iterdir() if p.name.startswith(TMP_PREFIX)]
    m = json.loads((root / "manifest.json").read_text())
    assert m["schema_version"] == SCHEMA_VERSION == "1.1" and m["version"] == published.version
    assert m["created_at"].endswith("Z")
    assert [f["sha256"] for f in m["inputs"]["files"]] == ["1" * 64, "2" * 64]
    assert m["config"]["profile"] == "small" and "hash_key" not in m["config"]
    assert m["code"] == CODE
    assert m["dimensions"]["instruction_following"]["llm_usage"] == {
        "calls": 8,
        "cached_calls": 1,
        "prompt_tokens": 800,
        "completion_tokens": 80,
        "failures": 1,
    }
    assert m["dimensions"]["item_ranking"]["llm_usage"]["calls"] == 0
    assert m["totals"]["rows"] == len(DIMENSIONS) * 24
    for dim in DIMENSIONS:
        info = m["dimensions"][dim]
        assert set(info["splits"]) == set(SPLITS) and info["rows"] == 24
        for s in info["splits"].values():
            assert sum(x["rows"] for x in s["shards"]) == s["rows"]
            assert sum(s["label_distribution"].values()) == s["rows"]
            assert all(x["rows"] <= 7 for x in s["shards"])
            for x in s["shards"]:
                path = root / x["path"]
                assert SHARD.match(path.name) and path.parent.name == dim
                schema = pq.read_schema(path)
                assert schema.equals(release_arrow_schema(dim), check_metadata=False)
                assert schema.metadata[b"huggingface"] == huggingface_metadata(dim)
                meta = pq.read_metadata(path)
                assert meta.row_group(0).column(0).compression == "ZSTD"
            ids = pl.read_parquet([root / x["path"] for x in s["shards"]])["entry_id"].to_list()
            assert ids == sorted(ids)  # deterministic order across shards
    assert m["dimensions"]["instruction_following"]["splits"]["train"]["label_distribution"] == {
        "0": 8,
        "1": 8,
    }
    card = (root / "README.md").read_text()
    assert card.startswith("---\nlicense: apache-2.0\n")
    assert "config_name: item_ranking" in card and "train-00000-of-00003.parquet" in card


def test_release_loads_with_datasets_pyarrow_duckdb_and_polars(
    benchmark_warehouse, tmp_path, monkeypatch
):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    import datasets

    root = publish_release(benchmark_warehouse, _settings(tmp_path), code=CODE).path
    m = json.loads((root / "manifest.json").read_text())
    cache = str(tmp_path / "hf-cache")
    for dim in ("instruction_following", "item_ranking"):
        splits = m["dimensions"][dim]["splits"]
        by_card = datasets.load_dataset(str(root), dim, cache_dir=cache)
        assert {k: len(v) for k, v in by_card.items()} == {s: v["rows"] for s, v in splits.items()}
        files = {s: [str(root / x["path"]) for x in v["shards"]] for s, v in splits.items()}
        by_files = datasets.load_dataset("parquet", data_files=files, cache_dir=cache)
        assert {k: len(v) for k, v in by_files.items()} == {s: v["rows"] for s, v in splits.items()}
    for dim in DIMENSIONS:
        rows = m["dimensions"][dim]["rows"]
        assert pq.ParquetDataset(root / dim).read().num_rows == rows
        assert duckdb.connect().sql(
            f"SELECT count(*) FROM read_parquet('{root / dim}/*.parquet')"
        ).fetchall() == [(rows,)]
        assert pl.scan_parquet(root / dim / "*.parquet").select(pl.len()).collect().item() == rows
    first = datasets.load_dataset(str(root), "behavior_prediction", cache_dir=cache)["train"][0]
    assert first["context"]["ts"] is not None and isinstance(first["history"], list)


def test_rebuild_is_byte_identical(benchmark_warehouse, tmp_path):
    import shutil

    settings = _settings(tmp_path)
    code = code_version()
    first = publish_release(benchmark_warehouse, settings, code=code)
    m1 = json.loads((first.path / "manifest.json").read_text())
    card1 = (first.path / "README.md").read_bytes()
    shutil.rmtree(first.path)
    second = publish_release(benchmark_warehouse, settings, code=code)
    m2 = json.loads((second.path / "manifest.json").read_text())
    assert second.version == first.version
    m1.pop("created_at"), m2.pop("created_at")
    m1.pop("seal"), m2.pop("seal")  # a digest over created_at too
    assert m1 == m2
    assert (second.path / "README.md").read_bytes() == card1


def test_changed_inputs_give_a_new_version(fixture_module, benchmark_warehouse, tmp_path):
    first = publish_release(benchmark_warehouse, _settings(tmp_path), code=CODE)
    rows = fixture_module.make_entries("query_item_relevance")
    rows[0]["label"] = 3 - rows[0]["label"]
    fixture_module.write_benchmark(benchmark_warehouse, "query_item_relevance", rows)
    second = publish_release(benchmark_warehouse, _settings(tmp_path), code=CODE)
    assert second.version != first.version and first.path.is_dir() and second.path.is_dir()


def test_existing_version_is_never_overwritten_unless_asked(
    fixture_module, benchmark_warehouse, tmp_path
):
    settings = _settings(tmp_path, release_version="v1")
    first = publish_release(benchmark_warehouse, settings, code=CODE)
    before = (first.path / "manifest.json").read_bytes()
    # Same content again: the existing release stays as it is.
    again = publish_release(benchmark_warehouse, settings, code=CODE)
    assert again.reused and (first.path / "manifest.json").read_bytes() == before
    # Different content under the same version: refused, nothing touched.
    rows = copy.deepcopy(fixture_module.make_entries("instruction_following"))[:-2]
    fixture_module.write_benchmark(benchmark_warehouse, "instruction_following", rows)
    with pytest.raises(ReleaseError, match="already exists"):
        publish_release(benchmark_warehouse, settings, code=CODE)
    assert (first.path / "manifest.json").read_bytes() == before
    assert sorted(p.name for p in (tmp_path / "releases").iterdir()) == ["v1"]
    # With overwrite_release the new content replaces it.
    replaced = publish_release(
        benchmark_warehouse,
        _settings(tmp_path, release_version="v1", overwrite_release=True),
        code=CODE,
    )
    assert replaced.manifest["dimensions"]["instruction_following"]["rows"] == 22
    assert sorted(p.name for p in (tmp_path / "releases").iterdir()) == ["v1"]


def test_crash_mid_write_leaves_no_half_release(benchmark_warehouse, tmp_path, monkeypatch):
    real = shards_module.append_row_group
    calls = {"n": 0}

    def failing(writer, group):
        calls["n"] += 1
        if calls["n"] == 6:
            raise OSError("disk full (injected)")
        real(writer, group)

    monkeypatch.setattr(shards_module, "append_row_group", failing)
    with pytest.raises(OSError, match="injected"):
        publish_release(benchmark_warehouse, _settings(tmp_path, release_version="v1"), code=CODE)
    # Row groups already queued may still be written; none of it is published.
    assert calls["n"] >= 6
    assert os.listdir(tmp_path / "releases") == []


def test_a_killed_writers_temporary_folder_is_removed_by_the_next_publish(
    benchmark_warehouse, tmp_path
):
    import subprocess
    import sys

    # A pid that certainly no longer runs: a child that has exited and been reaped.
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    releases = tmp_path / "releases"
    orphan = releases / f"{TMP_PREFIX}{dead}-0123abcd"
    live = releases / f"{TMP_PREFIX}{os.getpid()}-4567ef01"  # a writer still running
    for folder in (orphan, live):
        (folder / "instruction_following").mkdir(parents=True)
    publish_release(benchmark_warehouse, _settings(tmp_path, release_version="v1"), code=CODE)
    assert not orphan.exists()
    assert live.exists()


def test_missing_benchmark_table_is_a_clear_error(tmp_path):
    from core.warehouse import Warehouse

    wh = Warehouse(tmp_path / "data" / "wh.duckdb")
    with wh.connect() as con:
        con.execute("CREATE TABLE t AS SELECT 1 AS x")
    with pytest.raises(ReleaseError, match="no benchmark_instruction_following"):
        publish_release(wh, _settings(tmp_path))


def test_empty_split_is_declared_in_manifest_but_not_in_card(
    fixture_module, benchmark_warehouse, tmp_path, monkeypatch
):
    from assets.release.validate import validate_release

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    import datasets

    rows = [
        r for r in fixture_module.make_entries("factual_consistency") if r["split"] != "validation"
    ]
    fixture_module.write_benchmark(benchmark_warehouse, "factual_consistency", rows)
    root = publish_release(benchmark_warehouse, _settings(tmp_path), code=CODE).path
    m = json.loads((root / "manifest.json").read_text())
    assert m["dimensions"]["factual_consistency"]["splits"]["validation"] == {
        "rows": 0,
        "label_distribution": {},
        "label_sources": {},
        "synthetic_rows": 0,
        "shards": [],
    }
    assert validate_release(root) == []
    ds = datasets.load_dataset(str(root), "factual_consistency", cache_dir=str(tmp_path / "hf"))
    assert sorted(ds) == ["test", "train"] and len(ds["train"]) + len(ds["test"]) == len(rows)


def test_manifest_names_the_templates_and_whether_the_code_tree_was_modified(
    benchmark_warehouse, tmp_path
):
    published = publish_release(benchmark_warehouse, _settings(tmp_path), code=CODE)
    # the fixture's entries name `<dimension>.v1` with one hash each
    assert published.manifest["templates"] == {f"{d}.v1": "a" * 64 for d in sorted(DIMENSIONS)}
    assert "`item_ranking.v1` `aaaaaaaaaaaa`" in (published.path / "README.md").read_text()

    import subprocess

    repo = tmp_path / "checkout"
    repo.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(repo)]
    subprocess.run([*git, "init", "-q"], check=True)
    (repo / "code.py").write_text("x = 1\n")
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "c"], check=True)
    clean = code_version(repo)
    assert len(clean["git_commit"]) == 40 and clean["git_dirty"] is False
    (repo / "code.py").write_text("x = 2\n")
    assert code_version(repo)["git_dirty"] is True
    assert code_version(tmp_path / "data")["git_commit"] is None  # not a checkout
    assert code_version(tmp_path / "data")["git_dirty"] is None


def test_entries_of_one_template_version_with_two_contents_are_refused(
    fixture_module, benchmark_warehouse, tmp_path
):
    rows = fixture_module.make_entries("query_item_relevance")
    rows[0]["provenance"]["template_hash"] = "b" * 64
    fixture_module.write_benchmark(benchmark_warehouse, "query_item_relevance", rows)
    with pytest.raises(
        ValueError, match=r"two contents of one template version.*query_item_relevance\.v1"
    ):
        publish_release(benchmark_warehouse, _settings(tmp_path), code=CODE)
