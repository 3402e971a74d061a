"""Deterministic verifiers for the hard constraints of an agent instruction.

Each verifier reads the response through `factual_consistency.responses` (the same reading the claim
checker uses) and the retrieved items as evidence. Price and distance limits are checked on the
item's actual price and distance when the recommendation names a retrieved item (a response cannot
dodge a budget by misquoting a price), and on the claimed value otherwise. Soft constraints (tone,
answer relevance) are not decided here: the LLM judge decides them.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from assets.dimensions.factual_consistency.claims import resolve_ambiguous
from assets.dimensions.factual_consistency.evidence import EvidenceItem
from assets.dimensions.factual_consistency.responses import (
    ParsedResponse,
    json_recommendations,
    strict_json,
)
from schemas.constraints import Constraint

EPS = 1e-9
ZH_SHARE_MIN = 0.4  # share of CJK among CJK + Latin letters above which prose is Chinese
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
_IDENTIFIER = re.compile(r"\b[A-Za-z]*[_\d][A-Za-z0-9_]*\b|\b(?:km|m)\b")


def detect_language(prose: str) -> str | None:
    """'zh', 'en', or None when the prose has no letters to judge by."""
    text = _IDENTIFIER.sub(" ", prose)
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN.findall(text))
    if cjk + latin == 0:
        return None
    return "zh" if cjk / (cjk + latin) >= ZH_SHARE_MIN else "en"


def _json_ok(parsed: ParsedResponse, fields: list[str]) -> bool:
    if parsed.format != "json" or not parsed.json_valid:
        return False
    doc, _ = strict_json(parsed.text)
    recs = json_recommendations(doc)
    if not recs or not all(isinstance(r, dict) for r in recs):
        return False
    for rec in recs:
        for f in fields:
            value = rec.get(f)
            if value is None or (isinstance(value, str | list) and len(value) == 0):
                return False
    return True


def _claimed(rec, field: str):
    return next((c.value for c in rec.claims if c.field == field), None)


# The rule labeler of each hard constraint type: constraint type -> (its params, the parsed
# response, the evidence) -> broken? Registered with `@verifier(<type>)`.
VERIFIERS: dict[str, Callable[[dict, ParsedResponse, list[EvidenceItem]], bool]] = {}


def verifier(constraint_type: str):
    def register(fn):
        if constraint_type in VERIFIERS:
            raise ValueError(f"a verifier for {constraint_type!r} is registered twice")
        VERIFIERS[constraint_type] = fn
        return fn

    return register


def is_violated(c: Constraint, parsed: ParsedResponse, evidence: list[EvidenceItem]) -> bool | None:
    """True / False for a hard constraint; None for a soft one (not decided by rule)."""
    if not c.hard:
        return None
    fn = VERIFIERS.get(c.type)
    if fn is None:
        raise ValueError(f"no verifier for constraint type {c.type!r}")
    return fn(c.params(), parsed, evidence)


@verifier("json_format")
def _json_format(p: dict, parsed: ParsedResponse, evidence: list[EvidenceItem]) -> bool:
    return not _json_ok(parsed, p["fields"])


@verifier("item_count")
def _item_count(p: dict, parsed: ParsedResponse, evidence: list[EvidenceItem]) -> bool:
    recs = parsed.recommendations
    return len(recs) != p["n"] if p["mode"] == "exactly" else len(recs) > p["n"]


@verifier("max_length")
def _max_length(p: dict, parsed: ParsedResponse, evidence: list[EvidenceItem]) -> bool:
    return len(parsed.text) > p["chars"]


@verifier("language")
def _language(p: dict, parsed: ParsedResponse, evidence: list[EvidenceItem]) -> bool:
    found = detect_language(parsed.prose)
    return found is not None and found != p["lang"]


@verifier("forbidden_content")
def _forbidden_content(p: dict, parsed: ParsedResponse, evidence: list[EvidenceItem]) -> bool:
    low = parsed.text.casefold()
    return any(w.casefold() in low for w in p["words"])


def _over_limit(
    limit: float, field: str, parsed: ParsedResponse, evidence: list[EvidenceItem]
) -> bool:
    by_id = {ev.item_id: ev for ev in evidence}
    for rec in parsed.recommendations:
        ev = by_id.get(rec.item_id) if rec.item_id else None
        value = (ev.price if field == "price" else ev.distance_km) if ev is not None else None
        if value is None:
            value = _claimed(rec, field)
        if value is not None and value > limit + EPS:
            return True
    return False


@verifier("max_price")
def _max_price(p: dict, parsed: ParsedResponse, evidence: list[EvidenceItem]) -> bool:
    return _over_limit(p["amount"], "price", parsed, evidence)


@verifier("max_distance_km")
def _max_distance(p: dict, parsed: ParsedResponse, evidence: list[EvidenceItem]) -> bool:
    return _over_limit(p["km"], "distance", parsed, evidence)


@verifier("must_mention")
def _must_mention(p: dict, parsed: ParsedResponse, evidence: list[EvidenceItem]) -> bool:
    recs = parsed.recommendations
    recommended = {r.item_id for r in recs if r.item_id}
    names = {r.name.strip().casefold() for r in recs}
    low = parsed.text.casefold()
    for want in p["items"]:
        # Branches of a chain may share the name: recommending any of them satisfies it.
        known = {e.item_id for e in evidence if e.item_id == want or e.is_named(want)}
        if known:
            if not known & recommended:
                return True
        elif want.strip().casefold() not in names and want.strip().casefold() not in low:
            return True
    return False


def violations(
    constraints: list[Constraint], parsed: ParsedResponse, evidence: list[EvidenceItem]
) -> list[str]:
    """Types of the hard constraints the response breaks, in constraint order."""
    resolve_ambiguous(parsed, evidence)
    return [c.type for c in constraints if is_violated(c, parsed, evidence)]
