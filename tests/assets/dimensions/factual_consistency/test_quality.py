"""Claim-checker quality on generated transcripts: precision and recall per claim field against
the generator's ground truth (run `pytest -s` to see the table)."""

import random
from collections import Counter
from datetime import datetime

import polars as pl

from assets.dimensions.factual_consistency.claims import check_claims
from assets.dimensions.factual_consistency.evidence import build_evidence, evidence_items
from assets.dimensions.factual_consistency.responses import parse_response
from assets.dimensions.factual_consistency.synthesis import category_names
from loggen.agent_turns import AgentErrorRates, make_agent_turns
from loggen.catalog import category_translations, get_domain
from loggen.items import build_items

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


def test_translated_categories_are_supported_on_a_real_catalog():
    """The generator's agent writes an item's category in the response's language half the time
    (a translation, not a misstatement, by its truth); the claim checker with the domain's category
    merge agrees with the truth on every turn, without it it calls the translations errors."""
    domain = get_domain("food_delivery")
    items = build_items(domain, 600, 5).frame
    rng = random.Random(5)
    n = 1200
    ids = items["item_id"].to_list()
    requests = pl.DataFrame(
        {
            "request_id": [f"r{j}" for j in range(n)],
            "user_id": [f"u{j % 50}" for j in range(n)],
            "ts": [datetime(2026, 3, 2)] * n,
            "query": ["q"] * n,
            "lang": ["zh" if j % 2 else "en" for j in range(n)],
            "lat": [None] * n,
            "lon": [None] * n,
        },
        schema_overrides={"lat": pl.Float64, "lon": pl.Float64},
    )
    retrieved = pl.DataFrame(
        {"request_id": requests["request_id"], "item_ids": [rng.sample(ids, 6) for _ in range(n)]}
    )
    turns, truth = make_agent_turns(
        requests, retrieved, items, domain.name, 3, AgentErrorRates(),
        category_translations(domain),
    )  # fmt: skip
    frame = turns.join(requests.select("request_id", "lat", "lon"), on="request_id").join(
        truth, on="turn_id"
    )
    frame = frame.with_columns(build_evidence(frame, items))
    names = category_names(frame["evidence"])
    translated = disagree = errors_without = 0
    for response, evidence, misstated in zip(
        frame["response"].to_list(),
        frame["evidence"].to_list(),
        frame["misstated"].to_list(),
        strict=True,
    ):
        ev = evidence_items(evidence)
        parsed = parse_response(response, ev)
        by_id = {e.item_id: e for e in ev}
        translated += sum(
            1
            for rec in parsed.recommendations
            for c in rec.claims
            if c.field == "category"
            and rec.item_id in by_id
            and str(c.value).casefold() != (by_id[rec.item_id].category or "").casefold()
            and {"item_id": rec.item_id, "field": "category"} not in misstated
        )
        want = sorted((m["item_id"] or "", m["field"]) for m in misstated)
        got = sorted((c["item_id"] or "", c["field"]) for c in check_claims(parsed, ev, names))
        disagree += got != want
        errors_without += len(check_claims(parse_response(response, ev), ev)) > len(want)
    assert translated >= 50, translated
    assert disagree == 0
    assert errors_without >= 50  # the translations, read without the merge
