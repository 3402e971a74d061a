"""Check each fact a response claims about a retrieved item against the evidence.

A claim is supported when it matches the evidence within the precision responses write it with:
prices to 1% (or one cent), ratings to 0.05, distances to 60 m or 3% (responses round to 10 m or
0.1 km), opening hours as a subset of the item's ranges, category and list values (dishes,
amenities, ...) case-insensitively. A translation of the true value is no error: an item answers
to its names in every language (its title and `attributes` title_xx), and a category to its
other-language form when the domain's catalog says they are one category (`category_names`:
learned from items' names in both languages, `query_item_relevance.vocabulary`). A recommendation
naming no retrieved item is an invented item (field `name`, no item id); a JSON object whose id
names one item and whose name another misstates the name. Anything else a response says is not a
checkable claim here (the LLM judge reads it).
"""

from __future__ import annotations

from collections.abc import Mapping

from assets.dimensions.factual_consistency.evidence import EvidenceItem
from assets.dimensions.factual_consistency.responses import LIST_JOINT, ParsedResponse
from schemas.constraints import fmt_amount

PRICE_REL_TOL = 0.01
RATING_TOL = 0.051
DISTANCE_ABS_TOL_KM = 0.06
DISTANCE_REL_TOL = 0.03


def _num_text(x: float | None) -> str:
    return "" if x is None else fmt_amount(x)


# Casefolded category -> its canonical name: categories with one canonical name are one category
# (in two languages). Built per domain by `synthesis.category_names`.
CategoryNames = Mapping[str, str]


def _category_ok(
    parsed: ParsedResponse, claim, actual: str | None, categories: CategoryNames | None = None
) -> bool:
    if not actual:
        return False
    claimed, key = str(claim.value).strip().casefold(), actual.strip().casefold()
    if claimed == key:
        return True
    if categories and categories.get(claimed, claimed) == categories.get(key, key):
        return True
    # The value is cut at the first delimiter; a category that itself holds one ("Bars, Pubs")
    # is supported when the response text at the claim starts with it.
    rest = parsed.text[claim.span[0] :].casefold()
    key = actual.strip().casefold()
    if not rest.startswith(key):
        return False
    after = rest[len(key) : len(key) + 1]
    return after == "" or not after.isalnum()


def resolve_ambiguous(
    parsed: ParsedResponse, evidence: list[EvidenceItem], categories: CategoryNames | None = None
) -> ParsedResponse:
    """Tie each recommendation named by a title several retrieved items share to the one its
    claims fit best (fewest unsupported claims; retrieval order breaks ties). In place."""
    by_id = {ev.item_id: ev for ev in evidence}
    for rec in parsed.recommendations:
        if len(rec.candidates) > 1:
            scores = [
                (
                    sum(
                        _unsupported(parsed, c, by_id[cid], categories) is not None
                        for c in rec.claims
                    ),
                    i,
                )
                for i, cid in enumerate(rec.candidates)
            ]
            rec.item_id = rec.candidates[min(scores)[1]]
            rec.candidates = [rec.item_id]
    return parsed


def check_claims(
    parsed: ParsedResponse, evidence: list[EvidenceItem], categories: CategoryNames | None = None
) -> list[dict]:
    """Unsupported claims: [{item_id, field, claimed, actual}] in response order. `categories`:
    the domain's category merge (a category claimed in its other-language form is supported)."""
    resolve_ambiguous(parsed, evidence, categories)
    by_id = {ev.item_id: ev for ev in evidence}
    out: list[dict] = []
    for rec in parsed.recommendations:
        ev = by_id.get(rec.item_id) if rec.item_id else None
        if ev is None:
            out.append({"item_id": None, "field": "name", "claimed": rec.name, "actual": ""})
            continue
        renamed = rec.name and not ev.is_named(rec.name)
        if renamed and parsed.format == "json":
            out.append(
                {"item_id": ev.item_id, "field": "name", "claimed": rec.name, "actual": ev.title}
            )
        for claim in rec.claims:
            bad = _unsupported(parsed, claim, ev, categories)
            if bad is not None:
                out.append(
                    {
                        "item_id": ev.item_id,
                        "field": claim.field,
                        "claimed": claim.text,
                        "actual": bad,
                    }
                )
    return out


def _unsupported(
    parsed: ParsedResponse, claim, ev: EvidenceItem, categories: CategoryNames | None = None
) -> str | None:
    """None when the evidence supports the claim, else the actual value as text."""
    f, v = claim.field, claim.value
    if f == "price":
        if ev.price is not None and abs(v - ev.price) <= max(0.011, PRICE_REL_TOL * ev.price):
            return None
        return _num_text(ev.price)
    if f == "rating":
        if ev.rating is not None and abs(v - ev.rating) <= RATING_TOL:
            return None
        return "" if ev.rating is None else f"{ev.rating:.1f}"
    if f == "distance":
        a = ev.distance_km
        if a is not None and abs(v - a) <= max(DISTANCE_ABS_TOL_KM, DISTANCE_REL_TOL * a):
            return None
        return "" if a is None else f"{a:.2f} km"
    if f == "opening_hours":
        if v and set(v) <= set(ev.hours):
            return None
        return ", ".join(ev.hours)
    if f == "category":
        ok = _category_ok(parsed, claim, ev.category, categories)
        return None if ok else (ev.category or "")
    actual = ev.lists.get(f)
    if actual is not None:
        have = {a.strip().casefold() for a in actual}

        def held(part: str) -> bool:
            part = part.strip().casefold()
            return part in have or all(p in have for p in LIST_JOINT.split(part) if p)

        if all(held(c) for c in v):
            return None
        return ", ".join(actual)
    return ""


def claim_counts(parsed: ParsedResponse) -> dict[str, int]:
    """Claims made per field (for metadata and recall denominators)."""
    counts: dict[str, int] = {}
    for rec in parsed.recommendations:
        counts["name"] = counts.get("name", 0) + 1
        for c in rec.claims:
            counts[c.field] = counts.get(c.field, 0) + 1
    return counts
