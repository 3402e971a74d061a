"""The heuristic labeler against the real ESCI sample (skipped when shared data is absent)."""

from pathlib import Path

import polars as pl
import pytest

from assets.dimensions.query_item_relevance.esci import (
    agreement,
    default_esci_path,
    esci_agreement,
    esci_comparison,
    load_esci,
)

REPO = Path(__file__).resolve().parents[4]
ESCI = default_esci_path(REPO)


@pytest.mark.skipif(not ESCI.is_file(), reason=f"ESCI sample not present at {ESCI}")
def test_heuristic_agreement_with_human_esci_labels():
    result = esci_agreement(ESCI)
    print(
        f"\nESCI ({result['rows']} rows): exact agreement {result['exact_agreement']:.3f}, "
        f"binary (>=2) agreement {result['binary_agreement']:.3f}"
    )
    assert result["rows"] == load_esci(ESCI).height
    # Far better than always answering "irrelevant" on a mostly-relevant sample.
    irrelevant = (load_esci(ESCI)["gold"] < 2).mean()
    assert result["binary_agreement"] > irrelevant + 0.3
    assert result["exact_agreement"] > 0.4


@pytest.mark.skipif(not ESCI.is_file(), reason=f"ESCI sample not present at {ESCI}")
def test_comparison_beside_the_majority_class():
    results = esci_comparison(ESCI)
    assert set(results) == {"majority_class", "lexical", "evidence_labeler"}
    rows = load_esci(ESCI).height
    assert all(r["rows"] == rows for r in results.values())
    # ESCI products carry no category or attributes to learn a vocabulary from: the evidence
    # labeler decides none of them on its own (a judge would), and falls back to the lexical
    # grade.
    assert results["evidence_labeler"]["decided"] == 0.0
    assert results["evidence_labeler"]["exact_agreement"] == results["lexical"]["exact_agreement"]


def test_agreement_counts():
    frame = pl.DataFrame({"label": [3, 2, 0, 1], "gold": [3, 3, 1, 0]})
    assert agreement(frame) == {"rows": 4, "exact_agreement": 0.25, "binary_agreement": 1.0}


def test_load_rejects_unknown_labels(tmp_path):
    bad = tmp_path / "esci.csv"
    bad.write_text("example_id,query,product_title,esci_label\n7,q,t,Maybe\n")
    with pytest.raises(ValueError, match="row 7 has an unknown esci_label 'Maybe'"):
        load_esci(bad)
