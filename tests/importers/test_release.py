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


@pytest.mark.slow
def test_taobao_sample_builds_behaviour_and_ranking_on_sampled_negatives(
    tmp_path, capsys, monkeypatch
):
    """Clicks and purchases, no impressions, titles or queries: behaviour and ranking entries
    rest on negatives sampled from the catalog, and say so; relevance and the transcript
    dimensions are left out with their causes."""
    monkeypatch.delenv("RECRM_LLM_BASE_URL", raising=False)
    monkeypatch.setenv("RECRM_HASH_KEY", "importer-release-test")
    monkeypatch.chdir(tmp_path)
    sample = next(public_sample("taobao_userbehavior").glob("UserBehavior*.csv"))
    # The first 12,000 behaviours (about 120 users): the release's checks scan every prompt,
    # and the point here is what the entries are, not how many.
    src = tmp_path / "UserBehavior_head.csv"
    src.write_text("".join(sample.read_text().splitlines(keepends=True)[:12_000]))
    logs, releases = tmp_path / "logs", tmp_path / "releases"
    assert (
        main(["import", "--format", "taobao", str(src), "--domain", "taobao", "--out", str(logs)])
        == 0
    )
    code = main(["build", "--logs", str(logs), "--warehouse", str(tmp_path / "wh.duckdb"),
                 "--out", str(releases), "--version", "taobao-v1"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    release = releases / "taobao-v1"
    manifest = json.loads((release / "manifest.json").read_text())
    assert list(manifest["dimensions"]) == ["behavior_prediction", "item_ranking"]
    assert manifest["left_out_dimensions"]["query_item_relevance"] == {
        "taobao": "items have no title: no item text to judge relevance on"
    }
    behaviour = pl.read_parquet(release / "behavior_prediction" / "*.parquet")
    by_label = dict(behaviour.group_by("label").agg(pl.col("label_source").unique()).rows())
    assert {k: sorted(v) for k, v in by_label.items()} == {
        0: ["sampled"],
        1: ["log"],
        2: ["log"],
    }  # three classes; every 0 is a sampled negative, every 1 and 2 a logged event
    assert "local time (Asia/Shanghai)" in behaviour["prompt"][0]
    assert "online shopping marketplace" in behaviour["prompt"][0]
    ranking = pl.read_parquet(release / "item_ranking" / "*.parquet")
    assert set(ranking["label_source"]) == {"sampled"}
    card = (release / "README.md").read_text()
    assert "sampled" in card.split("## Label sources")[1]
    assert main(["validate", str(release)]) == 0
