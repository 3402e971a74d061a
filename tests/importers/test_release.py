"""A real public sample, imported, built into a release of exactly the dimensions it supports:
ESCI gives query-item relevance from its human labels; the card and the manifest say which
dimensions were left out and why, and `recrm validate` accepts the release."""

from __future__ import annotations

import json

import polars as pl
import pytest

from pipelines.cli import main
from tests.importers.conftest import public_sample


@pytest.mark.slow
def test_esci_sample_builds_a_relevance_only_release(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("RECRM_LLM_BASE_URL", raising=False)
    monkeypatch.setenv("RECRM_HASH_KEY", "importer-release-test")
    monkeypatch.chdir(tmp_path)  # no recrm.toml, an ephemeral Dagster instance
    src = public_sample("esci_dev", "esci_dev.csv")
    logs, releases = tmp_path / "logs", tmp_path / "releases"
    assert (
        main(["import", "--format", "esci", str(src), "--domain", "esci", "--out", str(logs)]) == 0
    )
    code = main(["build", "--logs", str(logs), "--warehouse", str(tmp_path / "wh.duckdb"),
                 "--out", str(releases), "--version", "esci-v1"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "building query_item_relevance; left out: instruction_following" in out
    release = releases / "esci-v1"
    manifest = json.loads((release / "manifest.json").read_text())
    assert list(manifest["dimensions"]) == ["query_item_relevance"]
    assert manifest["left_out_dimensions"]["behavior_prediction"] == {
        "esci": "no requests and no events: no behaviour logged"
    }
    assert manifest["config"]["dimensions"] == ["query_item_relevance"]
    assert sorted(p.name for p in release.iterdir() if p.is_dir()) == ["query_item_relevance"]
    card = (release / "README.md").read_text()
    assert "## Dimensions left out" in card
    assert "- `item_ranking`: esci: no requests and no events" in card
    entries = pl.read_parquet(release / "query_item_relevance" / "*.parquet")
    assert entries.height == 107 and set(entries["label_source"]) == {"human"}
    assert "on an online shopping marketplace (online shopping)." in entries["prompt"][0]
    assert main(["validate", str(release)]) == 0
