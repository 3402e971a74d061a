"""Baselines: fitted on train only, seeded, each reading only what its name says; the shortcut
detectors find shortcuts planted in the responses and nothing where there is none."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from assets.evaluation.release import open_release, read_entries
from assets.scoring.baselines import BASELINES, fit_baseline
from assets.scoring.baselines.text import MarkerRule, lexical_tokens
from assets.scoring.metrics import accuracy, roc_auc

RNG = np.random.default_rng(5)
WORDS = [
    "noodles",
    "hotpot",
    "coffee",
    "spicy",
    "cheap",
    "quiet",
    "near",
    "open",
    "late",
    "tasty",
    "面馆",
    "火锅",
    "咖啡",
    "好吃",
    "安静",
]


def _responses(n: int, planted: str | None = None, seed: int = 0) -> pl.DataFrame:
    """n responses of random words; label 0 for half; `planted` text in 60% of the negatives."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        label = i % 2
        text = " ".join(rng.choice(WORDS, 12))
        if planted and label == 0 and rng.random() < 0.6:
            text += planted
        rows.append({"entry_id": f"e{seed}-{i:04d}", "response": text, "label": label})
    return pl.DataFrame(rows, schema_overrides={"label": pl.Int8})


def test_the_marker_rule_finds_a_planted_phrase_and_predicts_with_it():
    train, test = _responses(300, " 环境干净适合聚会", 1), _responses(200, " 环境干净适合聚会", 2)
    rule = MarkerRule.fit("instruction_following", train)
    # The phrase itself is a marker (chance n-grams of enough negatives may be too).
    assert "环境干净适合聚会" in rule.markers
    out = rule.predict(test).join(test, on="entry_id")
    planted = out.filter(pl.col("response").str.contains("环境干净适合聚会"))
    assert (planted["prediction"] == 0).all()
    assert accuracy(out["label"], out["prediction"]) > 0.7
    assert roc_auc(out["label"] == 1, out["score"]) > 0.75


def test_the_marker_rule_stays_at_chance_where_labels_do_not_show():
    # Chance n-grams of three negatives may become markers; they fire on both classes alike.
    rule = MarkerRule.fit("instruction_following", _responses(400, None, 1))
    test = _responses(400, None, 2)
    out = rule.predict(test).join(test, on="entry_id")
    assert 0.4 < accuracy(out["label"], out["prediction"]) < 0.6
    assert (
        MarkerRule.fit("instruction_following", _responses(20, None, 1), min_support=30).markers
        == ()
    )


def test_the_response_classifier_reads_a_surface_shortcut_and_is_seeded():
    train, test = (
        _responses(400, " many repeat customers", 1),
        _responses(200, " many repeat customers", 2),
    )
    a = fit_baseline("response_ngram", "factual_consistency", train, seed=3).predict(test)
    b = fit_baseline("response_ngram", "factual_consistency", train, seed=3).predict(test)
    assert a.equals(b)
    scored = a.join(test, on="entry_id")
    assert roc_auc(scored["label"] == 1, scored["score"]) > 0.75
    clean = fit_baseline("response_ngram", "factual_consistency", _responses(400, None, 1))
    scored = clean.predict(_responses(400, None, 2)).join(_responses(400, None, 2), on="entry_id")
    assert 0.35 < roc_auc(scored["label"] == 1, scored["score"]) < 0.65


def test_lexical_tokens_split_latin_words_and_chinese_characters():
    assert lexical_tokens("Spicy 火锅店 near me") == {
        "spicy",
        "near",
        "me",
        "火",
        "锅",
        "店",
        "火锅",
        "锅店",
    }


@pytest.fixture(scope="module")
def release(eval_release):
    return open_release(eval_release)


def _frames(release, name, dim):
    columns = BASELINES[name].columns(dim)
    return read_entries(release, dim, "train", columns), read_entries(release, dim, "test", columns)


@pytest.mark.parametrize("name, dim", [(n, d) for n, b in BASELINES.items() for d in b.dimensions])
def test_every_baseline_scores_every_entry_it_covers(release, name, dim):
    train, test = _frames(release, name, dim)
    out = fit_baseline(name, dim, train, seed=0).predict(test)
    assert sorted(out["entry_id"]) == sorted(test["entry_id"]) and out["parsed_ok"].all()
    if dim == "item_ranking":
        assert (out["candidate_scores"].list.len() == test["candidates"].list.len()).all()
        assert not out["candidate_scores"].explode().is_nan().any()
    else:
        assert out["prediction"].null_count() == 0 and out["score"].is_finite().all()
    # Fitted on train only: the test labels do not change a thing.
    gold = "candidate_labels" if dim == "item_ranking" else "label"
    shuffled = test.with_columns(pl.col(gold).shuffle(seed=1))
    assert fit_baseline(name, dim, train, seed=0).predict(shuffled).equals(out)


def test_listing_order_ranks_the_first_listed_first(release):
    train, test = _frames(release, "listing_order", "item_ranking")
    out = fit_baseline("listing_order", "item_ranking", train).predict(test)
    for scores in out["candidate_scores"]:
        assert list(scores) == sorted(scores, reverse=True)


def test_popularity_counts_engagement_in_train_only(release):
    train, test = _frames(release, "popularity", "item_ranking")
    model = fit_baseline("popularity", "item_ranking", train)
    counts = dict(model.counts.select("item_id", "engaged").iter_rows())
    flat = train.select(
        item=pl.col("candidates").list.eval(pl.element().struct.field("item_id")),
        level="candidate_labels",
    ).explode("item", "level")
    expected = flat.group_by("item").agg((pl.col("level") >= 1).sum()).sort("item")
    assert {k: float(v) for k, v in expected.iter_rows()} == counts


def test_majority_and_random(release):
    train, test = _frames(release, "majority", "query_item_relevance")
    labels = train["label"].to_list()
    majority = fit_baseline("majority", "query_item_relevance", train).predict(test)
    assert set(majority["prediction"]) == {max(set(labels), key=lambda v: (labels.count(v), -v))}
    a = fit_baseline("random", "query_item_relevance", train, seed=1).predict(test)
    b = fit_baseline("random", "query_item_relevance", train, seed=1).predict(test)
    c = fit_baseline("random", "query_item_relevance", train, seed=2).predict(test)
    assert a.equals(b) and not a.equals(c)


def test_length_reads_nothing_but_the_length(release):
    train, test = _frames(release, "length", "instruction_following")
    model = fit_baseline("length", "instruction_following", train)
    same_length = test.with_columns(response=pl.col("response").str.replace_all(r"\S", "x"))
    assert model.predict(same_length).equals(model.predict(test))
