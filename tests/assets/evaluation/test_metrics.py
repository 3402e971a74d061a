"""Metrics: hand-computed cases, scikit-learn on random data, and ties as documented."""

from __future__ import annotations

import itertools
import math

import numpy as np
import polars as pl
import pytest
from sklearn.metrics import (
    accuracy_score,
    cohen_kappa_score,
    f1_score,
    ndcg_score,
    roc_auc_score,
)

from assets.scoring.metrics import (
    DimensionStats,
    accuracy,
    f1_positive,
    macro_f1,
    quadratic_weighted_kappa,
    ranking_point_metrics,
    roc_auc,
)

RNG = np.random.default_rng(7)


# -- hand-computed -------------------------------------------------------------------------------
def test_binary_metrics_by_hand():
    gold = [1, 1, 1, 0, 0]
    pred = [1, 0, 1, 1, 0]
    # tp 2, fp 1, fn 1 -> F1(1) = 4 / 6; class 0: tp 1, fp 1, fn 1 -> 2 / 4
    assert accuracy(gold, pred) == 0.6
    assert f1_positive(gold, pred) == pytest.approx(4 / 6)
    assert macro_f1(gold, pred) == pytest.approx((4 / 6 + 0.5) / 2)


def test_an_invalid_prediction_is_wrong_and_no_class_false_positive():
    gold = [1, 1, 0, 0]
    pred = [1, -1, 0, -1]  # one invalid per class
    # class 1: tp 1, fp 0, fn 1 -> 2/3; class 0 the same.
    assert f1_positive(gold, pred) == pytest.approx(2 / 3)
    assert macro_f1(gold, pred) == pytest.approx(2 / 3)


def test_auc_by_hand_with_a_tie_counting_half():
    # positives 0.9, 0.5; negatives 0.5, 0.1: pairs (0.9>0.5) (0.9>0.1) (0.5=0.5: half) (0.5>0.1)
    assert roc_auc([1, 1, 0, 0], [0.9, 0.5, 0.5, 0.1]) == pytest.approx(3.5 / 4)


def test_auc_pairs_with_an_invalid_item_count_as_misordered():
    # the invalid positive loses both its pairs: (1 + 1 + 0 + 0) / 4
    assert roc_auc([1, 1, 0, 0], [0.9, np.nan, 0.5, 0.1]) == 0.5
    assert math.isnan(roc_auc([1, 1], [0.2, 0.3]))  # one class only: undefined


def test_kappa_by_hand_and_invalid_at_full_disagreement():
    # gold 0,3 predicted 0,3: perfect.
    assert quadratic_weighted_kappa([0, 3, 0, 3], [0, 3, 0, 3]) == pytest.approx(1.0)
    # Observed weighted disagreement: one pair off by 3 grades (weight 1) out of 2 items.
    # O = [[1,0,0,0],[.. ],[..],[1,0,0,0]]: rows gold 0 and 3, both predicted 0.
    # E = outer((1,0,0,1), (2,0,0,0)) / 2 -> row 0 col 0 = 1, row 3 col 0 = 1: sum w*E = 1
    assert quadratic_weighted_kappa([0, 3], [0, 0]) == pytest.approx(1 - 1 / 1)
    with_invalid = quadratic_weighted_kappa([0, 3, 1, 2], [0, 3, -1, 2])
    as_far_as_possible = quadratic_weighted_kappa([0, 3, 1, 2], [0, 3, 3, 2])
    # The invalid column weighs 1 = the weight of the farthest grade (1 -> 3 is only 4/9).
    assert with_invalid < 1 and with_invalid != as_far_as_possible


def test_ranking_metrics_by_hand():
    # One list: levels (2, 0, 1, 0); predicted scores rank candidate 1 (a 0) first.
    levels = [[2, 0, 1, 0]]
    scores = [[3.0, 4.0, 2.0, 1.0]]  # order: c1(0), c0(2), c2(1), c3(0)
    m = ranking_point_metrics(levels, scores)
    # engaged x not engaged pairs: (c0,c1) wrong, (c0,c3) right, (c2,c1) wrong, (c2,c3) right
    assert m["pairwise_acc"] == 0.5 and m["auc"] == 0.5
    assert m["hr@1"] == 0.0 and m["hr@3"] == 1.0
    dcg5 = 0 / math.log2(2) + 3 / math.log2(3) + 1 / math.log2(4) + 0 / math.log2(5)
    idcg5 = 3 / math.log2(2) + 1 / math.log2(3)
    assert m["ndcg@5"] == pytest.approx(dcg5 / idcg5)


def test_hr_with_ties_is_the_expectation_over_tied_orders():
    # All four tied, one engaged: the engaged one is first with probability 1/4, in the top 3: 3/4.
    m = ranking_point_metrics([[0, 1, 0, 0]], [[1.0, 1.0, 1.0, 1.0]])
    assert m["hr@1"] == pytest.approx(0.25) and m["hr@3"] == pytest.approx(0.75)
    assert m["pairwise_acc"] == 0.5 and m["hr@5"] == 1.0


def test_tied_gold_candidates_score_the_same_in_either_order():
    """Two bought items tie in the gold (both level 2): a ranking that puts either first, or
    scores them equal, gets the same pairwise ACC, AUC, HR and NDCG; only the order against the
    lower levels counts."""
    levels = [[2, 0, 2, 1, 0]]
    first_a = ranking_point_metrics(levels, [[5.0, 1.0, 4.0, 3.0, 2.0]])
    first_b = ranking_point_metrics(levels, [[4.0, 1.0, 5.0, 3.0, 2.0]])
    equal = ranking_point_metrics(levels, [[4.5, 1.0, 4.5, 3.0, 2.0]])
    assert first_a == pytest.approx(first_b)
    assert equal == pytest.approx(first_a)
    assert first_a["ndcg@5"] == pytest.approx(1.0) and first_a["pairwise_acc"] == 1.0
    # Swapping a bought item below the clicked one costs NDCG, not the engaged/not pairs.
    worse = ranking_point_metrics(levels, [[5.0, 1.0, 3.0, 4.0, 2.0]])
    assert worse["ndcg@5"] < 1.0 and worse["pairwise_acc"] == 1.0


def test_an_invalid_ranking_scores_zero_but_counts():
    m = ranking_point_metrics([[1, 0], [1, 0]], [[2.0, 1.0], [2.0, 1.0]], valid=[True, False])
    assert m["pairwise_acc"] == 0.5 and m["auc"] == 0.5 and m["hr@1"] == 0.5
    assert m["ndcg@5"] == 0.5


def test_lists_without_both_classes_are_left_out_of_the_list_auc():
    m = ranking_point_metrics([[1, 0], [0, 0]], [[2.0, 1.0], [1.0, 2.0]])
    assert m["auc"] == 1.0 and m["pairwise_acc"] == 1.0
    assert m["hr@1"] == 1.0  # the all-zero list has no engaged candidate: not counted


# -- scikit-learn on random data -----------------------------------------------------------------
@pytest.mark.parametrize("trial", range(5))
def test_classification_metrics_match_sklearn(trial):
    n = 500
    gold = RNG.integers(0, 2, n)
    pred = np.where(RNG.random(n) < 0.7, gold, 1 - gold)
    assert accuracy(gold, pred) == pytest.approx(accuracy_score(gold, pred))
    assert f1_positive(gold, pred) == pytest.approx(f1_score(gold, pred))
    assert macro_f1(gold, pred) == pytest.approx(f1_score(gold, pred, average="macro"))
    score = np.round(RNG.random(n) + 0.3 * gold, 2)  # rounded: plenty of ties
    assert roc_auc(gold == 1, score) == pytest.approx(roc_auc_score(gold, score))
    grades = RNG.integers(0, 4, n)
    noisy = np.clip(grades + RNG.integers(-1, 2, n), 0, 3)
    assert quadratic_weighted_kappa(grades, noisy) == pytest.approx(
        cohen_kappa_score(grades, noisy, weights="quadratic", labels=[0, 1, 2, 3])
    )


def _brute_force(levels, scores, k):
    """HR@k and NDCG@k averaged over every order consistent with the scores (ties permuted)."""
    n = len(levels)
    orders = [
        p
        for p in itertools.permutations(range(n))
        if all(scores[p[i]] >= scores[p[i + 1]] for i in range(n - 1))
    ]
    gains = [2**lv - 1 for lv in levels]
    ideal = sorted(gains, reverse=True)
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal[:k]))
    hr = np.mean([any(levels[j] >= 1 for j in p[:k]) for p in orders])
    ndcg = np.mean(
        [sum(gains[j] / math.log2(i + 2) for i, j in enumerate(p[:k])) / idcg for p in orders]
    )
    return hr, ndcg


@pytest.mark.parametrize("trial", range(20))
def test_ranking_metrics_match_brute_force_and_sklearn(trial):
    n = int(RNG.integers(2, 7))
    levels = RNG.choice([0, 0, 0, 1, 2], n)
    if levels.max() == 0:
        levels[0] = 1
    scores = RNG.integers(0, 3, n).astype(float)  # few values: ties
    m = ranking_point_metrics([levels], [scores])
    for k in (1, 3, 5):
        hr, ndcg = _brute_force(list(levels), list(scores), k)
        assert m[f"hr@{k}"] == pytest.approx(hr)
        if k == 5:
            assert m["ndcg@5"] == pytest.approx(ndcg)
    gains = 2.0**levels - 1
    assert m["ndcg@5"] == pytest.approx(ndcg_score([gains], [scores], k=5))
    assert m["ndcg@10"] == pytest.approx(ndcg_score([gains], [scores], k=10))
    engaged = levels >= 1
    if engaged.any() and not engaged.all():
        assert m["auc"] == pytest.approx(roc_auc_score(engaged, scores))
        assert m["auc_pooled"] == pytest.approx(roc_auc_score(engaged, scores))


def test_many_lists_match_sklearn_averages():
    lists = [RNG.choice([0, 0, 1, 2], int(RNG.integers(5, 16))) for _ in range(200)]
    scores = [RNG.integers(0, 5, len(x)).astype(float) for x in lists]
    m = ranking_point_metrics(lists, scores)
    both = [
        (lv >= 1, s) for lv, s in zip(lists, scores, strict=True) if 0 < (lv >= 1).sum() < len(lv)
    ]
    assert m["auc"] == pytest.approx(np.mean([roc_auc_score(e, s) for e, s in both]))
    engaged = [(lv, s) for lv, s in zip(lists, scores, strict=True) if (lv >= 1).any()]
    assert m["ndcg@10"] == pytest.approx(
        np.mean([ndcg_score([2.0**lv - 1], [s], k=10) for lv, s in engaged])
    )
    flat_levels = np.concatenate(lists)
    assert m["auc_pooled"] == pytest.approx(roc_auc_score(flat_levels >= 1, np.concatenate(scores)))
    pairs = sum((e.sum() * (~e).sum()) for e, _ in both)
    correct = sum(roc_auc_score(e, s) * e.sum() * (~e).sum() for e, s in both)
    assert m["pairwise_acc"] == pytest.approx(correct / pairs)


# -- the items table -----------------------------------------------------------------------------
def test_dimension_stats_on_items_equal_the_plain_functions():
    n = 300
    gold = RNG.integers(0, 3, n)
    pred = np.where(RNG.random(n) < 0.6, gold, RNG.integers(0, 3, n))
    score = RNG.random(n)
    parsed = RNG.random(n) > 0.1
    items = pl.DataFrame(
        {
            "unit": [f"u{i % 37}" for i in range(n)],
            "gold": gold,
            "prediction": pred,
            "score": score,
            "parsed_ok": parsed,
        }
    )
    point = DimensionStats("behavior_prediction", items).point()
    assert point["acc"] == pytest.approx(np.mean((gold == pred) & parsed))
    assert point["auc"] == pytest.approx(roc_auc(gold >= 1, np.where(parsed, score, np.nan)))


def test_ranking_items_with_an_empty_list_score_like_without_it():
    def items(levels, scores):
        return pl.DataFrame(
            {
                "unit": [f"u{i}" for i in range(len(levels))],
                "gold_levels": levels,
                "candidate_scores": scores,
                "parsed_ok": [True] * len(levels),
            },
            schema_overrides={
                "gold_levels": pl.List(pl.Int8),
                "candidate_scores": pl.List(pl.Float64),
            },
        )

    levels, scores = [[1, 0, 2], [0, 1]], [[0.2, 0.5, 0.9], [0.3, 0.1]]
    with_empty = DimensionStats(
        "item_ranking", items([levels[0], [], levels[1]], [scores[0], [], scores[1]])
    )
    without = DimensionStats("item_ranking", items(levels, scores))
    a, b = with_empty.point(), without.point()
    assert a.keys() == b.keys()
    for name in a:
        assert a[name] == pytest.approx(b[name]), name
