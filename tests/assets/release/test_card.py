"""What the manifest and the dataset card state about validity: the split policy with each
domain's cut and time zone, entries held out or left out, label sources and synthetic shares per
dimension and split, the fields with label names, limitations and citation."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import polars as pl
import pytest

from assets.dimensions.common.left_out import record_left_out
from assets.ingest.domain_settings import ingest_domain_settings
from assets.release.publish import publish_release
from core.settings import Settings
from schemas.domain import domain_file
from schemas.entries import DIMENSIONS, SPLITS


@pytest.fixture
def published(benchmark_warehouse, tmp_path):
    wh = benchmark_warehouse
    logs = tmp_path / "logs"
    for domain in ("food_delivery", "hotel"):
        (logs / domain).mkdir(parents=True)
    domain_file(logs, "hotel").write_text('time_zone = "Asia/Shanghai"\n', encoding="utf-8")
    for domain in ("food_delivery", "hotel"):
        ingest_domain_settings(wh, logs, domain)
    start = datetime(2026, 3, 2)
    wh.write_table(
        "raw_requests",
        pl.DataFrame(
            {
                "domain": ["food_delivery"] * 100 + ["hotel"] * 10,
                "request_id": [f"r{i}" for i in range(110)],
                "ts": [start + timedelta(hours=i) for i in range(100)]
                + [start + timedelta(days=i) for i in range(10)],
            }
        ),
    )
    record_left_out(wh, "behavior_prediction", "hotel", "split_policy", 40)
    record_left_out(wh, "behavior_prediction", "food_delivery", "split_policy", 2)
    record_left_out(wh, "query_item_relevance", "hotel", "low_confidence", 7)
    settings = Settings(warehouse_path=wh.path, releases_dir=tmp_path / "releases")
    return publish_release(wh, settings)


def test_manifest_states_the_split_policy_and_domains(published):
    m = json.loads((published.path / "manifest.json").read_text())
    policy = m["split_policy"]
    assert policy["policy"] == "user_time_holdout" and policy["seed"] == 20260511
    assert policy["fractions"] == {"train": 0.8, "validation": 0.1, "test": 0.1}
    assert sum(policy["user_shares"].values()) == pytest.approx(1.0, abs=1e-5)
    assert set(policy["cuts"]) == {"food_delivery", "hotel"}
    assert policy["cuts"]["food_delivery"].startswith("2026-03-04")  # ~the 0.667 quantile
    assert policy["held_out"]["behavior_prediction"] == 42
    assert policy["held_out"]["instruction_following"] == 0
    assert m["domains"]["hotel"]["time_zone"] == "Asia/Shanghai"
    assert m["domains"]["food_delivery"] == {
        "time_zone": "UTC",
        "source_file": None,
        "sha256": None,
    }
    assert m["dimensions"]["query_item_relevance"]["left_out"] == {"low_confidence": 7}
    for dim in DIMENSIONS:
        for split, info in m["dimensions"][dim]["splits"].items():
            assert sum(info["label_sources"].values()) == info["rows"], (dim, split)
            assert 0 <= info["synthetic_rows"] <= info["rows"]
    fc = m["dimensions"]["factual_consistency"]["splits"]["train"]
    # the fixture's factual-consistency negatives are synthetic, labelled by the rule
    assert fc["synthetic_rows"] == fc["label_sources"]["rule"] // 2


def test_card_sections(published):
    card = (published.path / "README.md").read_text()
    for heading in (
        "## Split policy",
        "## Label sources and synthetic entries",
        "## Data Fields",
        "## Known limitations",
        "## Citation",
    ):
        assert f"\n{heading}\n" in card, heading
    assert "| `hotel` |" in card and "| Asia/Shanghai |" in card
    assert "`behavior_prediction` 42" in card
    assert "`query_item_relevance` 7" in card  # left out for low confidence
    assert "| `factual_consistency` | train |" in card and "synthetic" in card
    assert "`label`: int64 (0 = irrelevant, 1 = complement, 2 = substitute, 3 = exact)" in card
    assert "`candidate_labels`: list<item: int64> (0 = ignored, 1 = clicked, 2 = ordered)" in card
    assert "eprint        = {2605.11874}" in card and published.version in card
    for split in SPLITS:
        assert f"| {split} |" in card
