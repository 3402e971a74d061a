"""Shared steps of the agent-transcript dimensions, on small frames built here."""

import polars as pl
import pyarrow as pa

from assets.dimensions.common.transcripts import (
    describe_turn_entries,
    rule_labelled,
    step_schema,
)

COLUMNS = ["turn_id", "response", "found", "label", "is_synthetic", "label_source", "operator"]


def _positives(n: int) -> pl.DataFrame:
    frame = pl.DataFrame(
        {"turn_id": [f"t{i}" for i in range(n)], "response": [f"r{i}" for i in range(n)]}
    ).with_columns(pl.lit([], dtype=pl.List(pl.String)).alias("found"))
    return rule_labelled(frame, "found", COLUMNS)


def test_step_schema_puts_the_dimension_columns_around_response_and_evidence():
    schema = step_schema([pa.field("instruction", pa.string())], [pa.field("x", pa.int8())])
    assert schema.names == [
        "domain", "turn_id", "request_id", "user_id_hash", "query", "ts", "instruction",
        "response", "evidence", "x", "label", "is_synthetic", "label_source", "operator",
    ]  # fmt: skip
    assert not schema.field("domain").nullable


def test_rule_labels_one_only_when_nothing_was_found():
    frame = pl.DataFrame({"turn_id": ["a", "b"], "response": ["x", "y"], "found": [[], ["oops"]]})
    out = rule_labelled(frame, "found", COLUMNS)
    assert out.columns == COLUMNS
    assert out["label"].to_list() == [1, 0] and out["label"].dtype == pl.Int8
    assert not out["is_synthetic"].any() and set(out["label_source"]) == {"rule"}
    assert out["operator"].null_count() == 2


def test_describe_counts_findings_and_synthetic_share():
    labelled = _positives(2)
    made = labelled.with_columns(
        pl.Series("found", [["a"], ["b"]]),
        pl.lit(0, dtype=pl.Int8).alias("label"),
        pl.lit(True).alias("is_synthetic"),
        pl.lit("synthetic").alias("label_source"),
        pl.Series("operator", ["a", "b"]),
    )
    frame = pl.concat([labelled, made])
    meta = describe_turn_entries(
        frame, "found_by_kind", lambda f: f["found"].explode().drop_nulls()
    )
    assert list(meta) == [
        "rows", "found_by_kind", "synthetic_share_by_operator", "synthetic_share",
    ]  # fmt: skip
    assert meta["rows"] == 4  # the label distribution is the step's (common/labels.py)
    assert sum(meta["found_by_kind"].values()) == 2 and meta["synthetic_share"] == 0.5
    assert describe_turn_entries(frame.clear(), "found_by_kind", lambda f: 1 / 0) == {"rows": 0}


def test_evidence_text_is_the_same_line_per_item_whatever_the_slice_size(monkeypatch):
    from assets.dimensions.common import transcripts
    from schemas.entries import ITEM

    def item(i: int) -> dict:
        return {"item_id": f"i{i}", "title": f"Shop {i}", "category": "BBQ", "tags": ["late"],
                "price": 10.0 + i, "rating": None, "description": "", "attributes": None}  # fmt: skip

    lists = [[item(1), item(2)], [], [item(3)], None, [item(4)], [item(5), item(6), item(7)]]
    evidence = pl.Series("evidence", pa.array(lists, type=pa.list_(ITEM)))
    whole = transcripts.evidence_text(evidence)
    assert whole.to_list()[:2] == [
        "- [i1] Shop 1 | category: BBQ | price: 11.00 | tags: late\n"
        "- [i2] Shop 2 | category: BBQ | price: 12.00 | tags: late",
        "(no items retrieved)",
    ]
    monkeypatch.setattr(transcripts, "EVIDENCE_TEXT_SLICE_ROWS", 4)
    assert transcripts.evidence_text(evidence).equals(whole)
    monkeypatch.setattr(transcripts, "EVIDENCE_TEXT_SLICE_ROWS", 1)
    assert transcripts.evidence_text(evidence).equals(whole)
    assert transcripts.evidence_text(evidence.slice(0, 0)).to_list() == []
