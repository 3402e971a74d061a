"""Targeted synthesis: turn a compliant response into one that breaks a named constraint.

Each operator breaks one constraint type the instruction actually carries (so every synthetic
negative is a near miss of a real positive). The caller re-verifies every variant and keeps it only
when the verifier finds the targeted violation; the verifier's full list becomes `violations`.
Text responses are edited line by line; JSON responses as documents (re-serialized in their own
style, inside their code fence when they had one).
"""

from __future__ import annotations

import json
import random
import re

from assets.dimensions.factual_consistency.evidence import EvidenceItem
from assets.dimensions.factual_consistency.responses import (
    ParsedResponse,
    Recommendation,
    json_body,
    json_recommendations,
    strict_json,
)
from assets.dimensions.instruction_following.verify import detect_language
from schemas.constraints import LIST_FIELD_LABELS, Constraint, fmt_amount

OPERATORS: dict[str, str] = {
    "drop_json_field": "json_format",
    "break_json": "json_format",
    "wrong_item_count": "item_count",
    "exceed_length": "max_length",
    "wrong_language": "language",
    "over_price_item": "max_price",
    "over_distance_item": "max_distance_km",
    "add_forbidden_word": "forbidden_content",
    "drop_must_mention": "must_mention",
}
_PREFIX = re.compile(r"^[ \t]*(?:\d{1,2}[.、)）]|[-*•·])[ \t]*")
_FILLER = {
    "zh": "温馨提示：高峰时段可能需要等候，建议提前规划行程并关注商家的最新通知。",
    "en": "A quick note: at busy times you may have to wait, so plan ahead and check the latest notices.",
}
_REASON = {
    "zh": ("口碑不错，值得一试。", "位置便利，适合顺路前往。", "评价稳定，性价比高。"),
    "en": ("Well liked by regulars.", "Convenient to reach.", "Good value for the price."),
}
_OPEN = {"zh": "为您推荐以下选择：", "en": "Here is what I recommend:"}
_CLOSE = {"zh": "祝您愉快！", "en": "Have a good time!"}
_FORBIDDEN_SENTENCE = {"zh": "这里{w}让您满意。", "en": "It is {w} to please you."}


def applicable_operators(constraints: list[Constraint], valid_json: bool) -> list[str]:
    """Operators for the constraints; the JSON ones only when the response is valid JSON
    (format "json" and json_valid)."""
    types = {c.type for c in constraints}
    ops = [op for op, t in OPERATORS.items() if t in types]
    if not valid_json:
        ops = [op for op in ops if op not in ("drop_json_field", "break_json")]
    return ops


def _constraint(constraints: list[Constraint], ctype: str) -> Constraint | None:
    return next((c for c in constraints if c.type == ctype), None)


def response_language(parsed: ParsedResponse, constraints: list[Constraint]) -> str:
    lang = detect_language(parsed.prose)
    if lang is None:
        c = _constraint(constraints, "language")
        lang = c.lang if c else "zh"
    return lang


def _facts(ev: EvidenceItem) -> dict:
    facts = {
        "price": ev.price,
        "rating": ev.rating,
        "distance": ev.distance_km,
        "category": ev.category,
    }
    if ev.hours:
        facts["opening_hours"] = ev.hours
    return facts


def _claimed_facts(rec: Recommendation) -> dict:
    facts: dict = {}
    for c in rec.claims:
        facts[c.field] = c.value
    return facts


def render_line(name: str, facts: dict, lang: str, reason: str) -> str:
    """One recommendation line in `lang` (without its list prefix)."""
    parts = []
    for key, value in facts.items():
        if value is None or value == () or value == []:
            continue
        if key == "category":
            parts.append(f"类别：{value}" if lang == "zh" else f"category: {value}")
        elif key == "price":
            parts.append(
                f"人均{fmt_amount(value)}元" if lang == "zh" else f"price ¥{fmt_amount(value)}"
            )
        elif key == "rating":
            parts.append(f"评分{value:.1f}" if lang == "zh" else f"rated {value:.1f}/5")
        elif key == "distance":
            km = fmt_amount(round(value, 2))
            parts.append(f"距您{km}公里" if lang == "zh" else f"{km} km away")
        elif key == "opening_hours":
            parts.append(
                ("营业时间" + "、".join(value)) if lang == "zh" else "open " + " and ".join(value)
            )
        elif isinstance(value, list):
            label = LIST_FIELD_LABELS.get(key, {}).get(lang, key.replace("_", " "))
            sep = "、" if lang == "zh" else ", "
            parts.append(
                f"{label}：{sep.join(value)}" if lang == "zh" else f"{label}: {sep.join(value)}"
            )
    if lang == "zh":
        return f"【{name}】" + "，".join(parts) + ("。" if parts else "") + reason
    return name + (" — " + "; ".join(parts) if parts else "") + ". " + reason


# -- text and JSON editing --------------------------------------------------------------------------
def _lines_replace(text: str, rec: Recommendation, new_content: str | None) -> str:
    """Replace the content of a recommendation line (keeping its prefix); None removes the line."""
    start, end = rec.span
    if new_content is None:
        if end < len(text) and text[end] == "\n":
            end += 1
        elif start > 0 and text[start - 1] == "\n":
            start -= 1
        return text[:start] + text[end:]
    prefix = _PREFIX.match(text[start:end])
    head = prefix.group(0) if prefix else ""
    return text[:start] + head + new_content + text[end:]


def _append_line(text: str, parsed: ParsedResponse, content: str) -> str:
    recs = parsed.recommendations
    if not recs:
        return text.rstrip("\n") + "\n1. " + content
    last = recs[-1]
    m = re.match(r"^[ \t]*(\d{1,2})([.、)）])[ \t]*", text[last.span[0] : last.span[1]])
    prefix = f"{int(m.group(1)) + 1}{m.group(2)} " if m else "- "
    at = last.span[1]
    return text[:at] + "\n" + prefix + content + text[at:]


def _doc(text: str) -> tuple[dict | list, bool, int | None]:
    doc, error = strict_json(text)
    if error is not None:
        raise ValueError(f"not a JSON response: {error}")
    body, offset = json_body(text)
    indent = 2 if "\n  " in body else None
    return doc, offset > 0, indent


def _dump(doc, fenced: bool, indent: int | None) -> str:
    text = json.dumps(doc, ensure_ascii=False, indent=indent)
    return "```json\n" + text + "\n```" if fenced else text


def _recs(doc) -> list:
    recs = json_recommendations(doc)
    if recs is None:
        raise ValueError("the JSON response holds no list of recommendations")
    return recs


def _json_object(ev: EvidenceItem, template: dict, lang: str, rng: random.Random) -> dict:
    """A JSON recommendation for `ev` with the keys of `template`, filled from the evidence."""
    values = {
        "item_id": ev.item_id,
        "name": ev.title,
        "title": ev.title,
        "price": ev.price,
        "rating": ev.rating,
        "distance_km": None if ev.distance_km is None else round(ev.distance_km, 2),
        "category": ev.category,
        "opening_hours": ", ".join(ev.hours) if ev.hours else None,
        "reason": rng.choice(_REASON[lang]),
    }
    values.update({k: v for k, v in ev.claim_lists.items()})
    obj = {k: values.get(k) for k in template if values.get(k) is not None}
    obj.setdefault("item_id", ev.item_id)
    obj.setdefault("name", ev.title)
    return obj


def _within(ev: EvidenceItem, constraints: list[Constraint]) -> bool:
    price = _constraint(constraints, "max_price")
    dist = _constraint(constraints, "max_distance_km")
    if price and (ev.price is None or ev.price > price.amount):
        return False
    return not (dist and (ev.distance_km is None or ev.distance_km > dist.km))


def _must_ids(constraints: list[Constraint], evidence: list[EvidenceItem]) -> set[str]:
    c = _constraint(constraints, "must_mention")
    if not c:
        return set()
    names = {n.strip().casefold() for n in c.items}
    return {
        e.item_id for e in evidence if e.title.strip().casefold() in names or e.item_id in names
    }


def _unrecommended(parsed, evidence, constraints, within: bool) -> list[EvidenceItem]:
    used = {r.item_id for r in parsed.recommendations}
    titles = {r.name.casefold() for r in parsed.recommendations}
    counts: dict[str, int] = {}
    for e in evidence:
        counts[e.title.casefold()] = counts.get(e.title.casefold(), 0) + 1
    return [
        e
        for e in evidence
        if e.item_id not in used
        and e.title.casefold() not in titles
        and counts[e.title.casefold()] == 1  # a shared title could not be told apart
        and (not within or _within(e, constraints))
    ]


# -- the operators ----------------------------------------------------------------------------------
def perturb(
    op: str,
    constraints: list[Constraint],
    parsed: ParsedResponse,
    evidence: list[EvidenceItem],
    rng: random.Random,
) -> str | None:
    """The response edited by operator `op`, or None when the operator cannot apply here."""
    text = parsed.text
    lang = response_language(parsed, constraints)
    is_json = parsed.format == "json" and parsed.json_valid
    recs = parsed.recommendations
    if op == "drop_json_field":
        c = _constraint(constraints, "json_format")
        doc, fenced, indent = _doc(text)
        options = [(i, f) for i, r in enumerate(_recs(doc)) for f in c.fields if f in r]
        if not options:
            return None
        i, f = rng.choice(options)
        del _recs(doc)[i][f]
        return _dump(doc, fenced, indent)
    if op == "break_json":
        body, offset = json_body(text)
        how = rng.choice(("truncate", "trailing_comma", "single_quotes"))
        if how == "truncate":
            cut = body.rstrip().rfind("}")
            new_body = body[:cut].rstrip()
        elif how == "trailing_comma":
            cut = body.rfind("]")
            if cut < 0:
                return None
            new_body = body[:cut].rstrip() + ",\n" + body[cut:]
        else:
            new_body = body.replace('"name"', "'name'")
            if new_body == body:
                return None
        return text[:offset] + new_body + text[offset + len(body) :]
    if op == "wrong_item_count":
        c = _constraint(constraints, "item_count")
        n = len(recs)
        if (c.mode == "exactly" and n != c.n) or (c.mode == "at_most" and n > c.n):
            return None  # already breaks it: nothing to synthesize
        must = _must_ids(constraints, evidence)
        removable = [r for r in recs if r.item_id not in must]
        if c.mode == "exactly" and n >= 2 and removable and rng.random() < 0.5:
            return _remove(text, is_json, rng.choice(removable), recs)
        add = c.n + 1 - n
        pool = _unrecommended(parsed, evidence, constraints, within=True)
        if len(pool) < add:
            if c.mode == "exactly" and n >= 2 and removable:
                return _remove(text, is_json, rng.choice(removable), recs)
            return None
        return _add(text, parsed, is_json, rng.sample(pool, add), lang, rng)
    if op == "exceed_length":
        c = _constraint(constraints, "max_length")
        reps = max(1, (c.chars - len(text)) // len(_FILLER[lang]) + 1)
        if is_json:
            doc, fenced, indent = _doc(text)
            filler = _FILLER[lang] * reps
            for _ in range(5):
                if isinstance(doc, dict):
                    doc["summary"] = (str(doc.get("summary") or "") + filler).strip()
                    out = _dump(doc, fenced, indent)
                else:
                    return None
                if len(out) > c.chars:
                    return out
            return None
        out = text.rstrip("\n") + "\n" + _FILLER[lang] * reps
        while len(out) <= c.chars:
            out += _FILLER[lang]
        return out
    if op == "wrong_language":
        target = "en" if lang == "zh" else "zh"
        if is_json:
            doc, fenced, indent = _doc(text)
            for obj in _recs(doc):
                if isinstance(obj, dict) and "reason" in obj:
                    obj["reason"] = rng.choice(_REASON[target])
            if isinstance(doc, dict):
                doc["summary"] = _CLOSE[target]
            return _dump(doc, fenced, indent)
        lines = [_OPEN[target]]
        for j, r in enumerate(recs, 1):
            lines.append(
                f"{j}. "
                + render_line(r.name, _claimed_facts(r), target, rng.choice(_REASON[target]))
            )
        lines.append(_CLOSE[target])
        return "\n".join(lines)
    if op in ("over_price_item", "over_distance_item"):
        ctype = OPERATORS[op]
        c = _constraint(constraints, ctype)
        limit = c.amount if ctype == "max_price" else c.km
        used = {r.item_id for r in recs}
        over = [
            e
            for e in _unrecommended(parsed, evidence, constraints, within=False)
            if e.item_id not in used
            and (e.price if ctype == "max_price" else e.distance_km) is not None
            and (e.price if ctype == "max_price" else e.distance_km) > limit
        ]
        must = _must_ids(constraints, evidence)
        targets = [r for r in recs if r.item_id not in must]
        if not over or not targets:
            return None
        return _replace(text, parsed, is_json, rng.choice(targets), rng.choice(over), lang, rng)
    if op == "add_forbidden_word":
        c = _constraint(constraints, "forbidden_content")
        word = rng.choice(c.words)
        sentence = _FORBIDDEN_SENTENCE[lang].format(w=word)
        if is_json:
            doc, fenced, indent = _doc(text)
            target = next((o for o in _recs(doc) if isinstance(o, dict) and "reason" in o), None)
            if target is not None:
                target["reason"] = sentence + str(target["reason"])
            elif isinstance(doc, dict):
                doc["summary"] = sentence + str(doc.get("summary") or "")
            else:
                return None
            return _dump(doc, fenced, indent)
        if recs:
            at = recs[0].span[1]
            return text[:at] + " " + sentence + text[at:]
        return text + "\n" + sentence
    if op == "drop_must_mention":
        must = _must_ids(constraints, evidence)
        hit = [r for r in recs if r.item_id in must]
        if not hit:
            return None
        count = _constraint(constraints, "item_count")
        if count is not None and count.mode == "exactly":
            pool = [
                e
                for e in _unrecommended(parsed, evidence, constraints, within=True)
                if e.item_id not in must
            ]
            if pool:
                return _replace(text, parsed, is_json, hit[0], rng.choice(pool), lang, rng)
        if len(recs) == 1:
            pool = [
                e
                for e in _unrecommended(parsed, evidence, constraints, within=True)
                if e.item_id not in must
            ]
            if not pool:
                return None
            return _replace(text, parsed, is_json, hit[0], rng.choice(pool), lang, rng)
        return _remove(text, is_json, hit[0], recs)
    raise ValueError(f"unknown operator {op!r}; known: {', '.join(OPERATORS)}")


def _remove(text: str, is_json: bool, rec: Recommendation, recs: list[Recommendation]) -> str:
    if is_json:
        doc, fenced, indent = _doc(text)
        del _recs(doc)[recs.index(rec)]
        return _dump(doc, fenced, indent)
    return _lines_replace(text, rec, None)


def _add(text, parsed, is_json, new: list[EvidenceItem], lang, rng) -> str:
    if is_json:
        doc, fenced, indent = _doc(text)
        template = _recs(doc)[0] if _recs(doc) else {"item_id": 1, "name": 1}
        for ev in new:
            _recs(doc).append(_json_object(ev, template, lang, rng))
        return _dump(doc, fenced, indent)
    for ev in new:
        text = _append_line(
            text, parsed, render_line(ev.title, _facts(ev), lang, rng.choice(_REASON[lang]))
        )
        parsed = _reparse_positions(text, parsed, ev)
    return text


def _reparse_positions(text: str, parsed: ParsedResponse, ev: EvidenceItem) -> ParsedResponse:
    """After appending a line, make it the last recommendation (so the next append follows it)."""
    start = text.rfind("\n", 0, text.find(ev.title)) + 1
    end = text.find("\n", start)
    end = len(text) if end < 0 else end
    rec = Recommendation(
        item_id=ev.item_id, name=ev.title, name_span=(start, start), span=(start, end)
    )
    return ParsedResponse(
        text=text,
        format=parsed.format,
        json_valid=parsed.json_valid,
        json_error=parsed.json_error,
        recommendations=[*parsed.recommendations, rec],
        prose_source=parsed.prose_source,
    )


def _replace(text, parsed, is_json, old: Recommendation, new: EvidenceItem, lang, rng) -> str:
    if is_json:
        doc, fenced, indent = _doc(text)
        i = parsed.recommendations.index(old)
        _recs(doc)[i] = _json_object(new, _recs(doc)[i], lang, rng)
        return _dump(doc, fenced, indent)
    return _lines_replace(
        text, old, render_line(new.title, _facts(new), lang, rng.choice(_REASON[lang]))
    )
