import polars as pl
import pytest

from assets.dimensions.query_item_relevance.labeler import heuristic_labels, tokens_sql


def _tokens(text: str) -> list[str]:
    import duckdb

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


def test_grades_follow_text_category_and_behaviour():
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
            "engagement": [None, None, None, None, None, 2],
        },
        schema_overrides={"engagement": pl.Int8},
    )
    out = heuristic_labels(frame)
    labels = out["label"].to_list()
    assert labels[0] == 3 and labels[2] == 0 and labels[3] == 3
    # Same category without the query's words: a substitute.
    assert labels[4] == 2
    # Exact title match beats a same-category item; unrelated items are irrelevant.
    assert out["label"][0] >= out["label"][1] > out["label"][2] == 0
    # An order alone, with no text evidence, lifts an unrelated item to complement at most.
    assert out["label"][5] == 1
    assert out["label"].dtype == pl.Int8
    assert ((out["label_confidence"] >= 0.5) & (out["label_confidence"] < 1.0)).all()
    assert out.height == frame.height and out["query"].equals(frame["query"])


def test_behaviour_raises_the_grade():
    base = {
        "query": ["cheap hostel"] * 3,
        "title": ["Harbor Youth Hostel"] * 3,
        "category": ["hostel"] * 3,
    }
    frame = pl.DataFrame(
        {**base, "engagement": [0, 1, 2]}, schema_overrides={"engagement": pl.Int8}
    )
    scores = heuristic_labels(frame)["score"].to_list()
    assert scores[0] < scores[1] < scores[2]


def test_needs_query_and_title():
    with pytest.raises(ValueError, match="query and title"):
        heuristic_labels(pl.DataFrame({"query": ["x"]}))
