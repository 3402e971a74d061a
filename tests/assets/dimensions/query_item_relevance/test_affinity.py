import polars as pl

from assets.dimensions.query_item_relevance.affinity import (
    attach_category_lift,
    token_category_lift_sql,
)
from assets.dimensions.query_item_relevance.labeler import heuristic_labels


def test_lift_rewards_the_category_users_engage_with(staged_warehouse):
    lifts = staged_warehouse.query(token_category_lift_sql(), {"domain": "food_delivery"})
    assert lifts.height > 0
    assert (lifts["lift"] > 0).all()
    assert (lifts["engaged"] <= lifts["shown"]).all()
    # Lifts are relative to each token's own engagement rate: some above 1, some below.
    assert (lifts["lift"] > 1).any() and (lifts["lift"] < 1).any()


def test_attach_keeps_rows_and_order_and_takes_the_best_token():
    pairs = pl.DataFrame(
        {"query": ["想吃快餐", "kids movie", "想吃快餐"], "category": ["盖饭", "动画", "披萨"]}
    )
    lifts = pl.DataFrame(
        {
            "token": ["快餐", "吃快", "kid"],
            "category": ["盖饭", "盖饭", "动画"],
            "shown": [50, 50, 30],
            "engaged": [20, 5, 12],
            "lift": [2.5, 1.1, 1.8],
        }
    )
    out = attach_category_lift(pairs, lifts)
    assert out["query"].to_list() == pairs["query"].to_list()
    assert out["category_lift"].to_list() == [2.5, 1.8, None]


def test_behavioural_category_evidence_lifts_a_grade_without_shared_words():
    frame = pl.DataFrame(
        {
            "query": ["想吃快餐", "想吃快餐"],
            "title": ["福记便当", "福记便当"],
            "category": ["盖饭", "盖饭"],
            "category_lift": [2.0, None],
        }
    )
    labels = heuristic_labels(frame)["label"].to_list()
    assert labels[0] == 2 and labels[1] == 0
