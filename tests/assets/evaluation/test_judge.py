"""Parsing a judge's reply: the last <answer>, the dimension's scale, rankings as permutations,
and the label's probability from the token log-probabilities."""

from __future__ import annotations

import math

import pytest

from assets.evaluation.judge import label_probabilities, parse_label, parse_ranking, score_from


def test_the_last_answer_counts():
    text = "The format is <answer>0</answer> or <answer>1</answer>. I think... <answer> 1 </answer>"
    assert parse_label(text, "instruction_following") == (1, None)


@pytest.mark.parametrize(
    "text, reason",
    [
        ("no tags at all", "no <answer>"),
        ("<answer>yes</answer>", "'yes' is not one of [0, 1]"),
        ("<answer>2</answer>", "'2' is not one of [0, 1]"),
        ("<answer>1", "no <answer>"),
    ],
)
def test_answers_off_the_scale_are_invalid(text, reason):
    label, error = parse_label(text, "instruction_following")
    assert label is None and reason in error


def test_a_ranking_must_list_every_candidate_once():
    ids = ["a", "b", "c"]
    assert parse_ranking("<answer>c, a,b</answer>", ids) == (["c", "a", "b"], None)
    for bad in ("<answer>c, a</answer>", "<answer>a, a, b</answer>", "<answer>a, b, d</answer>"):
        assert parse_ranking(bad, ids)[0] is None


def _lp(token, lp, alts):
    return [token, lp, [[t, v] for t, v in alts.items()]]


def test_probabilities_from_the_label_token_and_its_alternatives():
    text = "Reasoning. <answer>2</answer>"
    logprobs = [
        _lp("Reason", -0.1, {}),
        _lp("ing. <", -0.1, {}),
        _lp("answer>", -0.1, {}),
        _lp("2", math.log(0.5), {"2": math.log(0.5), "1": math.log(0.3), "x": -1.0}),
        _lp("</answer>", -0.01, {}),
    ]
    p = label_probabilities(logprobs, text, "behavior_prediction")
    assert p == pytest.approx({0: 0.0, 1: 0.375, 2: 0.625})
    assert score_from("behavior_prediction", 2, p) == pytest.approx(1.0)


def test_a_label_merged_into_a_longer_token_is_found():
    text = "好的。<answer>1</answer>"
    # "好的。" may come as byte pieces that do not add up to characters: offsets from the end hold.
    logprobs = [
        _lp("\ufffd\ufffd", -0.1, {}),
        _lp("的。<answer", -0.1, {}),
        _lp(">1", math.log(0.8), {">1": math.log(0.8), ">0": math.log(0.2)}),
        _lp("</answer>", -0.01, {}),
    ]
    p = label_probabilities(logprobs, text, "factual_consistency")
    assert p == pytest.approx({0: 0.2, 1: 0.8})
    assert score_from("factual_consistency", 1, p) == pytest.approx(0.8)


def test_without_usable_log_probabilities_the_label_is_the_score():
    assert label_probabilities(None, "<answer>1</answer>", "factual_consistency") is None
    wrong = [_lp("<answer>", 0, {}), _lp("0", 0, {}), _lp("</answer>", 0, {})]
    assert label_probabilities(wrong, "<answer>1</answer>", "factual_consistency") is None
    assert score_from("behavior_prediction", 2, None) == 1.0
    assert score_from("behavior_prediction", 0, None) == 0.0
    assert score_from("query_item_relevance", 3, None) == 3.0
