"""Issue 12's checks on the release `recrm build` makes of sample_logs (the session's build):
relevance labels agree with the generator's truth with every grade represented, no leak across
splits and dimensions, prompts in the domain's local time, and a card that states all of it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from assets.checks.validity.leaks import (
    MUST_BE_ZERO,
    leaks_found,
    release_leak_audit,
    warehouse_leak_audit,
)
from assets.checks.validity.relevance import relevance_agreement

REPO = Path(__file__).resolve().parent.parent
TRUTH = REPO / "sample_logs" / "_truth"
pytestmark = pytest.mark.slow


def _shards(release: Path, dimension: str) -> pl.DataFrame:
    return pl.read_parquet(sorted((release / dimension).glob("*.parquet")))


def test_relevance_labels_agree_with_the_truth(sample_release: Path):
    result = relevance_agreement(_shards(sample_release, "query_item_relevance"), TRUTH)
    assert result.with_truth == result.entries > 10_000
    assert result.agreement >= 0.85 and result.kappa >= 0.8, result
    assert result.min_grade_share >= 0.10, result.grade_shares
    assert set(result.by_source) <= {"human", "heuristic", "llm_judge"}


def test_no_leak_across_splits_and_dimensions(sample_release: Path, sample_store):
    warehouse = sample_store
    audit = warehouse_leak_audit(warehouse)
    assert set(audit["measure"]) >= set(MUST_BE_ZERO)
    assert leaks_found(audit).height == 0, leaks_found(audit)
    timed = audit.filter(pl.col("measure") == "time_windows")
    # Every dimension's held-out entries are timed (through their request where needed).
    assert timed["held_out_dimension"].n_unique() == 5 and (timed["total"] > 0).all()
    assert leaks_found(release_leak_audit(sample_release)).height == 0


def test_prompts_state_local_time_and_how_candidates_are_shown(sample_release: Path):
    for dimension in ("behavior_prediction", "item_ranking"):
        entries = _shards(sample_release, dimension)
        assert entries["prompt"].str.contains("local time (Asia/Shanghai)", literal=True).all()
        row = entries.row(0, named=True)
        # Stored naive UTC; shown 8 hours later (Shanghai has no daylight saving).
        shown = pl.Series([row["context"]["ts"]]).dt.offset_by("8h").dt.strftime("%Y-%m-%d %H:%M")
        assert f"time: {shown[0]}" in row["prompt"]
        assert "withheld" in row["prompt"]
    ranking = _shards(sample_release, "item_ranking").row(0, named=True)
    assert "listed in a random order" in ranking["prompt"]


def test_manifest_and_card_state_the_policy_and_sources(sample_release: Path):
    manifest = json.loads((sample_release / "manifest.json").read_text())
    assert manifest["split_policy"]["policy"] == "user_time_holdout"
    assert set(manifest["split_policy"]["cuts"]) == {"food_delivery", "hotel", "movie_tickets"}
    assert all(n > 0 for n in manifest["split_policy"]["held_out"].values())
    assert {d["time_zone"] for d in manifest["domains"].values()} == {"Asia/Shanghai"}
    relevance = manifest["dimensions"]["query_item_relevance"]
    assert relevance["left_out"]["low_confidence"] > 0
    assert relevance["splits"]["train"]["label_sources"]["human"] > 0
    card = (sample_release / "README.md").read_text()
    for heading in ("Split policy", "Label sources and synthetic entries", "Data Fields",
                    "Known limitations", "Citation"):  # fmt: skip
        assert f"\n## {heading}\n" in card


# -- part B: negatives without shortcuts, rubrics, the validity gate -----------------------------
MARKER = "温馨提示：高峰时段可能需要等候，建议提前规划行程。"


def test_the_sample_build_passes_the_validity_gate(sample_release: Path):
    from assets.checks.validity.gate import validity_report
    from pipelines.cli import main

    manifest = json.loads((sample_release / "manifest.json").read_text())
    validity = manifest["validity"]
    assert validity["passed"] is True
    measured = {(r["check"], r["dimension"]): r for r in validity["rows"]}
    for dim in ("instruction_following", "factual_consistency"):
        for check in ("marker_rule", "response_ngram", "synthetic_detector", "length_only"):
            assert measured[(check, dim)]["status"] in ("passed", "warning"), measured[(check, dim)]
    assert measured[("leaks", "*")]["value"] == 0
    assert measured[("relevance_agreement", "query_item_relevance")]["value"] >= 0.85
    card = (sample_release / "README.md").read_text()
    assert "## Validity" in card and "| marker_rule | instruction_following |" in card
    # The same function, run again on the published shards, gives the same table.
    again = validity_report(sample_release, truth_dir=TRUTH, seed=manifest["config"]["seed"])
    assert again.as_dict() == validity
    assert main(["validate", str(sample_release)]) == 0


def test_marker_text_planted_in_the_sample_negatives_fails_the_gate(sample_release: Path, tmp_path):
    from assets.checks.validity.gate import validity_report

    copy = tmp_path / "planted"
    shutil.copytree(sample_release, copy)
    for shard in sorted((copy / "instruction_following").glob("*.parquet")):
        frame = pl.read_parquet(shard)
        planted = frame.with_columns(
            pl.when(pl.col("label") == 0)
            .then(pl.col("response") + "\n" + MARKER)
            .otherwise(pl.col("response"))
            .alias("response")
        )
        planted.write_parquet(shard)
    report = validity_report(copy, truth_dir=TRUTH)
    failed = {(r.check, r.dimension) for r in report.failures}
    assert not report.passed
    assert ("marker_rule", "instruction_following") in failed, report.lines()
    assert ("response_ngram", "instruction_following") in failed


def test_negatives_hold_no_fixed_text_and_rubrics_match_the_labels(sample_release: Path):
    fixed = ("温馨提示：高峰时段", "A quick note: at busy times", '"x-', "Lucky Spoon", "金满楼")
    for dim in ("instruction_following", "factual_consistency"):
        synthetic = _shards(sample_release, dim).filter(pl.col("is_synthetic"))
        assert synthetic.height > 50
        for text in fixed:
            assert not synthetic["response"].str.contains(text, literal=True).any(), (dim, text)
    ins = _shards(sample_release, "instruction_following")
    types = ins["constraints"].list.eval(pl.element().struct.field("type"))
    soft = types.list.contains("tone") | types.list.contains("answer_relevance")
    rule = ins["label_source"] != "llm_judge"
    left_out = ins["prompt"].str.contains("are not part of this label", literal=True)
    assert (left_out == (soft & rule)).all()
    fac = _shards(sample_release, "factual_consistency")
    assert fac["prompt"].str.contains("are not item facts", literal=True).all()
