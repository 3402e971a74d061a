"""The judge of a dimension is what its declaration names (`llm_judge`), not a list of names."""

from __future__ import annotations

from dataclasses import replace

import pytest

import assets.llm.judges as judges
from schemas.dimensions import DimensionError, get_dimension
from schemas.entries import DIMENSIONS


@pytest.mark.parametrize("dimension", DIMENSIONS)
def test_every_dimension_states_its_judge(dimension):
    judge = judges.judge_of(dimension)
    if get_dimension(dimension).llm_judge is None:
        assert judge is None  # declared not applicable: the judged step passes entries through
    else:
        assert isinstance(judge, judges.Judge) and judge.dimension == dimension


def test_the_built_in_judges():
    assert judges.judge_of("instruction_following") is judges.INSTRUCTION
    assert judges.judge_of("factual_consistency") is judges.FACTUAL
    assert judges.judge_of("query_item_relevance") is judges.RELEVANCE
    assert judges.judge_of("behavior_prediction") is None


@pytest.mark.parametrize(
    ("declared", "message"),
    [
        ("assets.llm.judges:Judge", "is not a Judge of behavior_prediction"),
        ("assets.llm.judges:RELEVANCE", "is not a Judge of behavior_prediction"),
        ("no_such_module_xyz:JUDGE", "llm_judge 'no_such_module_xyz:JUDGE'"),
    ],
)
def test_a_wrong_judge_reference_names_the_dimension(monkeypatch, declared, message):
    wrong = replace(get_dimension("behavior_prediction"), llm_judge=declared)
    monkeypatch.setattr(judges, "get_dimension", lambda name: wrong)
    judges.judge_of.cache_clear()
    try:
        with pytest.raises(DimensionError, match=message):
            judges.judge_of("behavior_prediction")
    finally:
        judges.judge_of.cache_clear()
