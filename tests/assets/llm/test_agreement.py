import polars as pl
import pytest

from assets.llm.agreement import agreement_by_source, cohen_kappa


def test_kappa_matches_the_textbook_example():
    # 50 items: both yes 20, a yes b no 5, a no b yes 10, both no 15 -> po 0.7, pe 0.5, k 0.4.
    a = [1] * 20 + [1] * 5 + [0] * 10 + [0] * 15
    b = [1] * 20 + [0] * 5 + [1] * 10 + [0] * 15
    assert cohen_kappa(pl.DataFrame({"a": a, "b": b}), "a", "b") == pytest.approx(0.4)


def test_kappa_edge_cases():
    assert cohen_kappa(pl.DataFrame({"a": [1, 2, 3], "b": [1, 2, 3]}), "a", "b") == pytest.approx(1)
    assert cohen_kappa(pl.DataFrame({"a": [1, 1], "b": [1, 1]}), "a", "b") is None
    assert cohen_kappa(pl.DataFrame({"a": [None], "b": [1]}), "a", "b") is None


def test_agreement_per_source_skips_unjudged_rows():
    frame = pl.DataFrame(
        {
            "label_source": ["rule", "rule", "rule", "human", "human"],
            "label": [1, 0, 1, 3, 2],
            "judge": [1, 1, None, 3, 2],
        }
    )
    stats = agreement_by_source(frame, "label", "judge")
    assert stats["n_rule"] == 2 and stats["agreement_rule"] == 0.5
    assert stats["n_human"] == 2 and stats["agreement_human"] == 1.0 and stats["kappa_human"] == 1.0
