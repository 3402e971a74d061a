"""Each instruction-following entry's rubric lists the constraints its label decided."""

import polars as pl

from assets.dimensions.instruction_following.rubric import rubric_text, with_rubric
from assets.llm.judged import _rerender_rubric_prompts


def _frame(types_per_row: list[list[str]]) -> pl.DataFrame:
    return pl.DataFrame(
        {"constraints": [[{"type": t, "params": "{}"} for t in types] for types in types_per_row]}
    )


def test_a_rule_label_leaves_the_soft_constraints_out_of_the_rubric_and_says_so():
    text = rubric_text(["item_count", "tone", "answer_relevance", "language"], soft_decided=False)
    decided = text.split("\n")[0]
    assert "number of recommended items" in decided and "answer language" in decided
    assert "tone" not in decided and "relevance to the user's request" not in decided
    assert "are not part of this label" in text and "tone" in text.split("\n")[-1]


def test_a_judged_entry_lists_its_soft_constraints_and_an_entry_without_them_says_nothing():
    judged = rubric_text(["max_price", "tone"], soft_decided=True)
    assert "tone" in judged.split("\n")[0] and "not part of this label" not in judged
    hard = rubric_text(["max_price"], soft_decided=False)
    assert "not part of this label" not in hard and "price limit" in hard


def test_the_judge_replaces_the_rule_rubric_in_the_prompts_it_decided():
    frame = with_rubric(_frame([["max_length", "tone"], ["max_length", "tone"]]))
    frame = frame.with_columns(
        pl.concat_str(pl.lit("## Rubric\n"), pl.col("rubric"), pl.lit("\n## Agent")).alias("prompt")
    )
    out = frame.with_columns(_rerender_rubric_prompts(frame, pl.Series([True, False])))
    judged, rule = out["prompt"].to_list()
    assert "length in characters; tone" in judged and "not part of this label" not in judged
    assert rule == frame["prompt"][1]
