"""Targeted synthesis of hallucinations: rewrite one true claim of a consistent response into a
false one, or add an item the evidence does not hold.

Operators edit the claimed value in place (its span in the response), so the rest of the response
stays byte-identical and the negative is a near miss of its positive. The caller re-checks every
variant and keeps it only when the claim checker finds the planted error.
"""

from __future__ import annotations

import json
import random
import re

from assets.dimensions.factual_consistency.evidence import EvidenceItem
from assets.dimensions.factual_consistency.responses import Claim, ParsedResponse
from core.ids import stable_id
from schemas.constraints import fmt_amount

OPERATORS = ("change_price", "change_rating", "change_distance", "swap_attribute", "invent_item")
_FAKE = {
    "zh": ("金满楼私房菜", "福源小馆", "御香阁", "鑫味食堂", "老李客栈"),
    "en": ("The Golden Lantern", "Lucky Spoon Bistro", "Harbor Moon Lodge", "Old Town Garden"),
}


def _claims(
    parsed: ParsedResponse, fields: tuple[str, ...] | None = None
) -> list[tuple[int, Claim]]:
    return [
        (i, c)
        for i, rec in enumerate(parsed.recommendations)
        if rec.item_id is not None
        for c in rec.claims
        if fields is None or c.field in fields
    ]


def applicable_operators(parsed: ParsedResponse, evidence: list[EvidenceItem]) -> list[str]:
    ops = []
    fields = {c.field for _, c in _claims(parsed)}
    if "price" in fields:
        ops.append("change_price")
    if "rating" in fields:
        ops.append("change_rating")
    if "distance" in fields:
        ops.append("change_distance")
    if fields - {"price", "rating", "distance"} and len(evidence) > 1:
        ops.append("swap_attribute")
    if parsed.recommendations:
        ops.append("invent_item")
    return ops


def _splice(text: str, span: tuple[int, int], new: str) -> str:
    return text[: span[0]] + new + text[span[1] :]


def _number_text(old: str, value: float) -> str:
    """`value` written like the number in `old` (JSON number, or digits inside text)."""
    m = re.search(r"\d+(?:,\d{3})*(?:\.\d+)?", old)
    new = fmt_amount(value)
    return old[: m.start()] + new + old[m.end() :] if m else new


def perturb(
    op: str, parsed: ParsedResponse, evidence: list[EvidenceItem], rng: random.Random
) -> str | None:
    """The response with one planted factual error, or None when `op` cannot apply."""
    text = parsed.text
    by_id = {e.item_id: e for e in evidence}
    if op in ("change_price", "change_rating", "change_distance"):
        field = op.split("_", 1)[1]
        options = _claims(parsed, (field,))
        if not options:
            return None
        _, claim = rng.choice(options)
        v = float(claim.value)
        if field == "price":
            new = v * rng.choice((rng.uniform(0.4, 0.75), rng.uniform(1.3, 2.0)))
            new = round(new) if new >= 10 else round(new, 1)
            if abs(new - v) < max(1.0, 0.2 * v):
                new = round(v * 1.5 + 5)
        elif field == "rating":
            new = v - 1.0 if v >= 2.5 else v + 1.0
            new = round(min(5.0, max(1.0, new)), 1)
        else:
            new = v * rng.uniform(2.0, 3.0) + 0.8
            # Keep the unit: a value written in metres is rewritten in metres.
            if re.search(r"米|\bm\b|meters?|metres?", claim.text) and not re.search(
                r"公里|千米|km|kilomet", claim.text, re.IGNORECASE
            ):
                new = round(new * 1000, -1)
            else:
                new = round(new, 1)
        return _splice(text, claim.span, _number_text(claim.text, new))
    if op == "swap_attribute":
        options = _claims(parsed, None)
        options = [(i, c) for i, c in options if c.field not in ("price", "rating", "distance")]
        rng.shuffle(options)
        for i, claim in options:
            own = by_id[parsed.recommendations[i].item_id]
            for other in rng.sample(evidence, len(evidence)):
                if other.item_id == own.item_id:
                    continue
                new = _attribute_text(claim, own, other, parsed.format == "json")
                if new is not None:
                    return _splice(text, claim.span, new)
        return None
    if op == "invent_item":
        if not parsed.recommendations:
            return None
        rec = rng.choice(parsed.recommendations)
        titles = [e.title.casefold() for e in evidence]
        lang = "zh" if re.search(r"[\u4e00-\u9fff]", rec.name) else "en"
        names = [
            n
            for n in _FAKE[lang]
            if not any(n.casefold() in t or t in n.casefold() for t in titles)
        ]
        if not names:
            return None
        fake = rng.choice(names)
        s0, s1 = rec.span
        block = text[s0:s1]
        ns0, ns1 = rec.name_span[0] - s0, rec.name_span[1] - s0
        if parsed.format == "json":
            if not (0 <= ns0 < ns1 <= len(block)):
                return None
            new_block = block[:ns0] + json.dumps(fake, ensure_ascii=False) + block[ns1:]
            if rec.stated_item_id:
                new_block = new_block.replace(
                    json.dumps(rec.stated_item_id),
                    json.dumps(f"x-{stable_id('invented', fake)[:8]}"),
                    1,
                )
            last = parsed.recommendations[-1].span[1]
            return text[:last] + ",\n" + new_block + text[last:]
        new_block = block[:ns0] + fake + block[ns1:]
        m = re.match(r"^[ \t]*(\d{1,2})([.、)）])", new_block)
        last = parsed.recommendations[-1]
        n = len(parsed.recommendations) + 1
        if m:
            new_block = f"{n}{m.group(2)}" + new_block[m.end() :]
        return text[: last.span[1]] + "\n" + new_block + text[last.span[1] :]
    raise ValueError(f"unknown operator {op!r}; known: {', '.join(OPERATORS)}")


def _attribute_text(
    claim: Claim, own: EvidenceItem, other: EvidenceItem, is_json: bool
) -> str | None:
    """The other item's value of the claim's field, written in the claim's style; None when it
    would still be true of the own item."""
    if claim.field == "category":
        if not other.category or other.category.casefold() == (own.category or "").casefold():
            return None
        return json.dumps(other.category, ensure_ascii=False) if is_json else other.category
    if claim.field == "opening_hours":
        if not other.hours or set(other.hours) <= set(own.hours):
            return None
        joined = ", ".join(other.hours)
        return (
            json.dumps(joined)
            if is_json
            else ("、" if "、" in claim.text else " and ").join(other.hours)
        )
    mine = {v.casefold() for v in own.lists.get(claim.field, [])}
    theirs = [v for v in other.lists.get(claim.field, []) if v.casefold() not in mine]
    if not theirs:
        return None
    if is_json:
        return json.dumps(theirs[:2], ensure_ascii=False)
    sep = "、" if "、" in claim.text or re.search(r"[\u4e00-\u9fff]", claim.text) else ", "
    return sep.join(theirs[:2])
