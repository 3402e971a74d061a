"""Claim-checker quality on generated transcripts: precision and recall per claim field against
the generator's ground truth (run `pytest -s` to see the table)."""

from collections import Counter

from assets.dimensions.factual_consistency.claims import check_claims
from assets.dimensions.factual_consistency.evidence import evidence_items
from assets.dimensions.factual_consistency.responses import parse_response

FIELDS = ("name", "price", "rating", "distance", "opening_hours", "category", "dishes", "amenities")


def test_claim_checker_precision_recall_per_field(generated):
    tp, fp, fn, claims = Counter(), Counter(), Counter(), Counter()
    for response, evidence, truth in zip(
        generated["response"].to_list(),
        generated["evidence"].to_list(),
        generated["misstated"].to_list(),
        strict=True,
    ):
        ev = evidence_items(evidence)
        parsed = parse_response(response, ev)
        for rec in parsed.recommendations:
            claims["name"] += 1
            claims.update(c.field for c in rec.claims)
        got = Counter((c["item_id"], c["field"]) for c in check_claims(parsed, ev))
        want = Counter((m["item_id"], m["field"]) for m in truth)
        for key in got | want:
            tp[key[1]] += min(got[key], want[key])
            fp[key[1]] += max(0, got[key] - want[key])
            fn[key[1]] += max(0, want[key] - got[key])
    print(f"\n{'claim field':<16}{'claims':>8}{'false':>7}{'precision':>11}{'recall':>8}")
    for f in FIELDS:
        p = tp[f] / max(1, tp[f] + fp[f])
        r = tp[f] / max(1, tp[f] + fn[f])
        print(f"{f:<16}{claims[f]:>8}{tp[f] + fn[f]:>7}{p:>11.3f}{r:>8.3f}")
    for f in FIELDS:
        assert tp[f] + fn[f] >= 5, f"too few misstated {f} claims to measure"
        assert fp[f] == 0 and fn[f] == 0, (f, tp[f], fp[f], fn[f])
    assert set(fp) | set(fn) <= set(FIELDS)
