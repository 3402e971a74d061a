"""Agent turns for both transcript dimensions: logged turns, then LLM-generated ones."""

import sys
from pathlib import Path

import polars as pl

from assets.dimensions.factual_consistency.build import assemble_entries as fc_assemble
from assets.dimensions.factual_consistency.build import label_turns as fc_label_turns
from assets.dimensions.factual_consistency.turns import (
    GENERATED_PREFIX,
    generated_turn_counts,
    load_turns,
)
from assets.dimensions.instruction_following.build import assemble_entries as if_assemble
from assets.dimensions.instruction_following.build import label_turns as if_label_turns
from assets.llm.generate import write_generated_turns

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "llm_support"))

from generated_turns import DOMAIN, MODEL, build_warehouse  # noqa: E402

G2, G3 = GENERATED_PREFIX + "g2", GENERATED_PREFIX + "g3"
PROVENANCE = {
    "log_fingerprint": "fp",
    "builder_version": "v",
    "template_id": "t",
    "template_hash": "h",
}


def test_generated_turns_follow_the_logged_ones_marked_and_with_evidence(tmp_path):
    turns = load_turns(build_warehouse(tmp_path / "wh.duckdb"), DOMAIN)
    # g1 was generated for r1, which has a logged turn: left out.
    assert turns["turn_id"].to_list() == ["t1", G2, G3]
    assert turns["generator_model"].to_list() == [None, MODEL, MODEL]
    assert turns["query"].to_list() == ["noodles near me", "cheap lunch", "附近的面馆"]
    assert turns["ts"].null_count() == 0 and turns["user_id_hash"].null_count() == 0
    generated = turns.filter(pl.col("turn_id") == G3).row(0, named=True)
    assert [it["item_id"] for it in generated["evidence"]] == ["i1", "i2", "i3", "i4"]
    assert generated["evidence"][0]["price"] == 12.0


def test_without_generated_rows_the_turns_are_exactly_the_logged_ones(tmp_path):
    wh = build_warehouse(tmp_path / "wh.duckdb", with_generated=False)
    before = load_turns(wh, DOMAIN)
    write_generated_turns(wh, DOMAIN, None)  # the table as the asset writes it with the LLM off
    after = load_turns(wh, DOMAIN)
    assert after.equals(before) and after.columns == before.columns
    assert "generator_model" not in after.columns and after["turn_id"].to_list() == ["t1"]
    assert generated_turn_counts(after, if_label_turns(after)[0]) == {
        "generated_turns_in": 0,
        "generated_turns_used": 0,
    }


def test_generated_turns_only_when_no_turn_was_logged(tmp_path):
    wh = build_warehouse(tmp_path / "wh.duckdb")
    wh.write_partition(
        "raw_agent_turns", DOMAIN, wh.read_partition("raw_agent_turns", DOMAIN).clear()
    )
    turns = load_turns(wh, DOMAIN)
    assert turns["turn_id"].to_list() == [GENERATED_PREFIX + "g1", G2, G3]


def test_instruction_following_verifies_generated_turns_by_rule(tmp_path):
    turns = load_turns(build_warehouse(tmp_path / "wh.duckdb"), DOMAIN)
    labelled, stats = if_label_turns(turns)
    assert stats["set_aside_mismatch"] == 0 and stats["labelled"] == 3
    by_id = {r["turn_id"]: r for r in labelled.iter_rows(named=True)}
    assert (by_id[G2]["label"], by_id[G2]["violations"]) == (1, [])
    assert (by_id[G3]["label"], by_id[G3]["violations"]) == (0, ["item_count"])
    assert {by_id[g]["label_source"] for g in (G2, G3)} == {"rule"}
    types = [c["type"] for c in by_id[G3]["constraints"]]
    assert types == ["item_count", "language", "tone", "answer_relevance"]
    assert generated_turn_counts(turns, labelled) == {
        "generated_turns_in": 2,
        "generated_turns_used": 2,
        "generator_models": {MODEL: 2},
    }
    entries = if_assemble(labelled, labelled.clear(), DOMAIN, 1, 0.5, PROVENANCE)
    sources = {r["request_id"]: r["source_row_ids"] for r in entries["provenance"]}
    # Balancing may drop a positive; every kept entry names its source row.
    assert sources.items() <= {"r1": ["t1"], "r2": [G2], "r3": [G3]}.items()
    assert sources["r3"] == [G3] and len(sources) >= 2


def test_factual_consistency_checks_generated_turns_by_rule(tmp_path):
    turns = load_turns(build_warehouse(tmp_path / "wh.duckdb"), DOMAIN)
    labelled, _ = fc_label_turns(turns)
    by_id = {r["turn_id"]: r for r in labelled.iter_rows(named=True)}
    assert (by_id[G2]["label"], by_id[G2]["unsupported_claims"]) == (1, [])
    claims = by_id[G3]["unsupported_claims"]
    assert by_id[G3]["label"] == 0 and [(c["item_id"], c["field"]) for c in claims] == [
        ("i1", "price")
    ]
    assert {by_id[g]["label_source"] for g in (G2, G3)} == {"rule"}
    entries = fc_assemble(labelled, labelled.clear(), DOMAIN, 1, 0.5, PROVENANCE)
    assert {r["request_id"]: r["source_row_ids"] for r in entries["provenance"]}["r3"] == [G3]
