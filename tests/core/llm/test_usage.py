import pytest

from core.llm.usage import Budget, BudgetExhausted, Usage, build_budget, write_usage
from core.warehouse import Warehouse


def test_budget_counts_calls_and_tokens():
    budget = Budget(max_calls=2, max_tokens=None)
    budget.reserve_call()
    budget.release_call()  # a failed attempt gives its call back
    budget.reserve_call()
    budget.reserve_call()
    with pytest.raises(BudgetExhausted, match="2 calls"):
        budget.reserve_call()
    tokens = Budget(max_calls=None, max_tokens=10)
    tokens.reserve_call()
    tokens.spend_tokens(10)
    assert tokens.exhausted


def test_the_build_budget_is_shared_by_every_client_in_the_process():
    first = build_budget(7, None, scope="test-shared")
    assert build_budget(7, None, scope="test-shared") is first
    assert build_budget(8, None, scope="test-shared") is not first


def test_usage_rows_are_replaced_per_asset_and_domain(tmp_path):
    wh = Warehouse(tmp_path / "wh.duckdb")
    write_usage(wh, "a/judged", "a", "food", Usage(calls=3, failures=1))
    write_usage(wh, "a/judged", "a", "hotel", Usage(calls=5))
    write_usage(wh, "b/judged", "b", "food", Usage(cached_calls=2))
    write_usage(wh, "a/judged", "a", "food", Usage(calls=0, cached_calls=3))
    rows = wh.query(
        "SELECT asset, domain, calls, cached_calls, failures FROM llm_usage ORDER BY asset, domain"
    ).rows()
    assert rows == [
        ("a/judged", "food", 0, 3, 0),
        ("a/judged", "hotel", 5, 0, 0),
        ("b/judged", "food", 0, 2, 0),
    ]
    assert Usage(calls=1).as_metadata()["llm_calls"] == 1
