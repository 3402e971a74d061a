import duckdb
import polars as pl
import pytest

from assets.dimensions.common.render_sql import answer_sql, prompt_sql, render_sql
from assets.dimensions.common.wording import worded
from core.templates import TemplateError, load_template
from schemas.domain import DomainSettings


@pytest.mark.parametrize("name", ["behavior_prediction", "item_ranking", "query_item_relevance"])
def test_sql_rendering_is_byte_identical_to_polars(name):
    tpl = worded(load_template(name), DomainSettings(), "hotel")
    values = {
        "user_text": ["city: 上海; gender: f", None],
        "history_text": ["- 2026-03-01 08:00 click: 烤鸭 [烤鸭] (i1)", "(no earlier activity)"],
        "context_text": ["query: it's {{not}} a placeholder\n'quoted'", "q"],
        "candidate_text": ["[i1] 北京烤鸭", ""],
        "candidates_text": ["- [i1] a\n- [i2] b", "- x"],
        "ranking_text": ["i1, i2", "x"],
        "query": ["北京烤鸭", "cheap hostel"],
        "item_text": ["[i1] 北京烤鸭 | category: 烤鸭", None],
        "label": pl.Series([2, None], dtype=pl.Int8),
    }
    frame = pl.DataFrame({f: values[f] for f in tpl.fields})
    con = duckdb.connect()
    con.register("f", frame)
    got = con.sql(
        f"SELECT {prompt_sql(tpl, set(frame.columns))} AS p, {answer_sql(tpl)} AS a FROM f"
    ).pl()
    assert got["p"].to_list() == tpl.render_prompt(frame).to_list()
    assert got["a"].to_list() == tpl.render_answer(frame).to_list()


def test_missing_column_and_plain_text():
    with pytest.raises(TemplateError, match="needs column 'x'"):
        render_sql("a {{x}}", {"y"})
    assert (
        duckdb.connect().execute(f"SELECT {render_sql('no placeholders')}").fetchone()[0]
        == "no placeholders"
    )
    assert duckdb.connect().execute(f"SELECT {render_sql('')}").fetchone()[0] == ""
