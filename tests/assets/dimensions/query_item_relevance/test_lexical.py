import duckdb
import polars as pl
import pytest

from assets.dimensions.query_item_relevance.lexical import lexical_labels, tokens_sql


def _tokens(text: str) -> list[str]:
    con = duckdb.connect()
    try:
        sql = f"SELECT {tokens_sql('t')} AS x FROM (SELECT CAST($t AS VARCHAR) AS t)"
        return sorted(con.execute(sql, {"t": text}).fetchone()[0])
    finally:
        con.close()


def test_tokens_for_english_and_chinese():
    assert _tokens("Cheap Hostels for the dresses") == ["cheap", "dress", "hostel"]
    assert _tokens("北京烤鸭") == ["京烤", "北京", "烤鸭"]
    assert _tokens("鸭 duck") == ["duck", "鸭"]


def test_grades_follow_the_two_texts_only():
    frame = pl.DataFrame(
        {
            "query": ["北京烤鸭", "北京烤鸭", "北京烤鸭", "spa resort", "spa resort", "spa resort"],
            "title": [
                "北京烤鸭",
                "果木烤鸭半只",
                "芝士披萨",
                "Seaside Spa Resort",
                "Lake Villas",
                "Budget Dorm Beds",
            ],
            "category": ["烤鸭", "烤鸭", "披萨", "resort", "resort", "hostel"],
        }
    )
    out = lexical_labels(frame)
    labels = out["label"].to_list()
    assert labels[0] == 3 and labels[2] == 0 and labels[3] == 3
    # Same category without the query's words: a substitute.
    assert labels[4] == 2
    assert out["label"][0] >= out["label"][1] > out["label"][2] == 0
    assert labels[5] == 0
    assert out["label"].dtype == pl.Int8
    assert ((out["label_confidence"] >= 0.5) & (out["label_confidence"] < 1.0)).all()
    assert out.height == frame.height and out["query"].equals(frame["query"])
    # Columns the prompt does not show change nothing.
    with_engagement = lexical_labels(frame.with_columns(pl.lit(2).alias("engagement")))
    assert with_engagement["label"].equals(out["label"])


def test_other_language_name_in_attributes_counts():
    frame = pl.DataFrame(
        {
            "query": ["beef noodles"],
            "title": ["老王家牛肉面(黄浦店)"],
            "attributes": ['{"title_en": "Wang\'s Beef Noodles (Huangpu)"}'],
        }
    )
    assert lexical_labels(frame)["item_coverage"][0] == 1.0


def test_needs_query_and_title():
    with pytest.raises(ValueError, match="query and title"):
        lexical_labels(pl.DataFrame({"query": ["x"]}))
