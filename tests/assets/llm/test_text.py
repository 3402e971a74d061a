import polars as pl
import pytest

from assets.llm.text import NO_CONSTRAINTS, NO_EVIDENCE, with_text


def test_text_columns(make_rows):
    fc = pl.from_arrow(make_rows["factual_consistency"](n=1))
    fc = pl.concat([fc, fc.with_columns(pl.lit([], dtype=fc["evidence"].dtype).alias("evidence"))])
    texts = with_text(fc, "evidence_text")["evidence_text"].to_list()
    assert texts[0].startswith("[i1] Beef Noodles | category: noodles | price: 12.00")
    assert texts[1] == NO_EVIDENCE
    qir = with_text(pl.from_arrow(make_rows["query_item_relevance"](n=1)), "item_text")
    assert "tags: spicy" in qir["item_text"][0]
    inst = pl.from_arrow(make_rows["instruction_following"](n=1))
    inst = pl.concat(
        [
            inst,
            inst.with_columns(pl.lit(None, dtype=inst["constraints"].dtype).alias("constraints")),
        ]
    )
    constraints = with_text(inst, "constraints_text")["constraints_text"].to_list()
    assert constraints == ['- max_items: {"n": 3}\n- tone: {"tone": "polite"}', NO_CONSTRAINTS]


def test_unknown_text_column():
    with pytest.raises(KeyError, match="unknown text columns"):
        with_text(pl.DataFrame({"a": [1]}), "nope")
