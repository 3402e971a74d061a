"""Verifier quality on generated transcripts: precision and recall per constraint type against the
generator's ground truth (run `pytest -s` to see the table)."""

from collections import Counter

from assets.dimensions.factual_consistency.evidence import evidence_items
from assets.dimensions.factual_consistency.responses import parse_response
from assets.dimensions.instruction_following.parse import cross_check, parse_instruction
from assets.dimensions.instruction_following.verify import violations
from schemas.constraints import HARD_TYPES


def test_verifier_precision_recall_per_constraint_type(generated):
    tp, fp, fn, support = Counter(), Counter(), Counter(), Counter()
    mismatches = Counter()
    for instruction, declared, response, evidence, truth in zip(
        generated["instruction"].to_list(),
        generated["constraints"].to_list(),
        generated["response"].to_list(),
        generated["evidence"].to_list(),
        generated["violated_constraints"].to_list(),
        strict=True,
    ):
        constraints = parse_instruction(instruction)
        mismatches.update(cross_check(constraints, declared))
        ev = evidence_items(evidence)
        found = set(violations(constraints, parse_response(response, ev), ev))
        for ctype in {c.type for c in constraints if c.hard}:
            support[ctype] += 1
            got, want = ctype in found, ctype in truth
            tp[ctype] += got and want
            fp[ctype] += got and not want
            fn[ctype] += want and not got
    print(f"\n{'constraint type':<20}{'turns':>7}{'broken':>8}{'precision':>11}{'recall':>8}")
    for ctype in HARD_TYPES:
        p = tp[ctype] / max(1, tp[ctype] + fp[ctype])
        r = tp[ctype] / max(1, tp[ctype] + fn[ctype])
        print(f"{ctype:<20}{support[ctype]:>7}{tp[ctype] + fn[ctype]:>8}{p:>11.3f}{r:>8.3f}")
    assert not mismatches, f"instruction parse disagrees with the constraints column: {mismatches}"
    for ctype in HARD_TYPES:
        assert tp[ctype] + fn[ctype] >= 10, f"too few broken {ctype} turns to measure"
        assert fp[ctype] == 0 and fn[ctype] == 0, (ctype, tp[ctype], fp[ctype], fn[ctype])


def test_generated_rates_match_the_requested_rates(generated):
    broken = generated["violated_constraints"].list.len() > 0
    misstated = generated["misstated"].list.len() > 0
    assert abs(broken.mean() - 0.25) < 0.04
    assert abs(misstated.mean() - 0.20) < 0.04
