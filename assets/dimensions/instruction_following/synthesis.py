"""Targeted synthesis: turn a compliant response into one that breaks a named constraint.

Each operator breaks one constraint type the instruction actually carries (so every synthetic
negative is a near miss of a real positive). The caller re-verifies every variant and keeps it only
when the verifier finds the targeted violation; the verifier's full list becomes `violations`.

Operators write nothing the domain's logs do not: added or replaced items are other retrieved
items (drawn by how often logged compliant answers name them, `PhraseBank.by_mentions`) with
their real values in the wording of a logged line (the line replaced, a sibling line, or a
logged line template, `phrases.py`); added sentences (length, forbidden words, the other
language) are logged positives' own sentences; JSON is re-serialized in the response's own
layout, and broken JSON is the answer cut off (no character added). Without a phrase bank (`phrases.harvest`), operators that need logged wording decline.
Text responses are edited line by line; JSON responses as documents.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass

from assets.dimensions.factual_consistency.evidence import EvidenceItem
from assets.dimensions.factual_consistency.responses import (
    ParsedResponse,
    Recommendation,
    json_body,
    json_recommendations,
    parse_response,
    strict_json,
)
from assets.dimensions.factual_consistency.synthesis import number_text
from assets.dimensions.instruction_following.phrases import (
    LineTemplate,
    PhraseBank,
    fill,
    line_template,
    reason_sentences,
)
from assets.dimensions.instruction_following.verify import detect_language
from schemas.constraints import Constraint, cut_off_json

# The perturbation operators, in the order they are tried (seeded; see `applicable_operators`):
# name -> the constraint type it breaks. Each is a function registered with `@operator` below.
OPERATORS: dict[str, str] = {}
# name -> the function: (PerturbInput) -> the edited response, or None when it cannot apply.
OPERATOR_FUNCTIONS: dict[str, Callable[[PerturbInput], str | None]] = {}
# Operators that edit a JSON response's structure: only for a valid JSON response.
JSON_OPERATORS: set[str] = set()
_PREFIX = re.compile(r"^[ \t]*(?:\d{1,2}[.、)）]|[-*•·])[ \t]*")
_NUMBERED = re.compile(r"^([ \t]*)(\d{1,2})([.、)）])", re.M)
_CJK = re.compile(r"[\u4e00-\u9fff]")
_EMPTY = PhraseBank()


def applicable_operators(constraints: list[Constraint], valid_json: bool) -> list[str]:
    """Operators for the constraints; the JSON ones only when the response is valid JSON
    (format "json" and json_valid)."""
    types = {c.type for c in constraints}
    ops = [op for op, t in OPERATORS.items() if t in types]
    if not valid_json:
        ops = [op for op in ops if op not in JSON_OPERATORS]
    return ops


def _constraint(constraints: list[Constraint], ctype: str) -> Constraint | None:
    return next((c for c in constraints if c.type == ctype), None)


def response_language(parsed: ParsedResponse, constraints: list[Constraint]) -> str:
    lang = detect_language(parsed.prose)
    if lang is None:
        c = _constraint(constraints, "language")
        lang = c.lang if c else "zh"
    return lang


def _joiner(sample: str) -> str:
    """How a list is joined in `sample`'s wording."""
    if "、" in sample:
        return "、"
    if " and " in sample:
        return " and "
    if "，" in sample:
        return "，"
    return "、" if _CJK.search(sample) else ", "


def value_texts(ev: EvidenceItem, template: LineTemplate) -> dict[str, str]:
    """The item's values for the template's claimed fields, written like the template's values
    (digits, decimals, unit, list joiner); fields the item lacks are left out."""
    out: dict[str, str] = {}
    for f, _, claimed in template.claims:
        if f == "price" and ev.price is not None:
            out[f] = number_text(claimed, ev.price)
        elif f == "rating" and ev.rating is not None:
            out[f] = number_text(claimed, round(ev.rating, 1), decimals=1 if "." in claimed else 0)
        elif f == "distance" and ev.distance_km is not None:
            meters = re.search(r"米|\d\s*m\b|meters?|metres?", claimed) and not re.search(
                r"公里|千米|km|kilomet", claimed, re.IGNORECASE
            )
            km = ev.distance_km
            if meters:
                out[f] = number_text(claimed, round(km * 1000, -1), decimals=0)
            else:
                digits = re.search(r"\.(\d+)", claimed)
                out[f] = number_text(claimed, round(km, len(digits.group(1)) if digits else 1))
        elif f == "category" and ev.category:
            out[f] = ev.category
        elif f == "opening_hours" and ev.hours:
            out[f] = _joiner(claimed).join(ev.hours)
        elif f in ev.claim_lists and ev.claim_lists[f]:
            joiner = _joiner(claimed) if _joiner(claimed) != " and " else ", "
            n = max(1, len(re.split(r"\s*[、,，;；]\s*", claimed)))
            out[f] = joiner.join(ev.claim_lists[f][:n])
    return out


def _line_for(ev: EvidenceItem, templates: list[LineTemplate], rng: random.Random) -> str | None:
    """A line about `ev` in the wording of the first template whose fields it has."""
    for template in templates:
        line = fill(template, ev.title, value_texts(ev, template))
        if line is not None:
            return line
    return None


def _templates(
    text: str, parsed: ParsedResponse, bank: PhraseBank, lang: str, rng: random.Random,
    first: Recommendation | None = None,
) -> list[LineTemplate]:  # fmt: skip
    """Templates for a new line of this response: `first`'s line, its sibling lines (shuffled),
    then a logged line of the language."""
    own = [first] if first is not None else []
    siblings = [r for r in parsed.recommendations if r is not first and r.item_id is not None]
    rng.shuffle(siblings)
    out = [t for r in own + siblings if (t := line_template(text, r)) is not None]
    fields = frozenset(f for t in out for f in t.fields) or frozenset(
        ("price", "rating", "distance", "category", "opening_hours")
    )
    logged = bank.pick_template(lang, fields, rng)
    return out + ([logged] if logged is not None else [])


# -- text and JSON editing --------------------------------------------------------------------------
def _renumber(text: str) -> str:
    """Numbered list lines numbered 1, 2, ... again (after a line was removed or added)."""
    count = iter(range(1, 100))
    return _NUMBERED.sub(lambda m: f"{m.group(1)}{next(count)}{m.group(3)}", text)


def _lines_replace(text: str, rec: Recommendation, new_content: str | None) -> str:
    """Replace the content of a recommendation line (keeping its prefix); None removes the line."""
    start, end = rec.span
    if new_content is None:
        if end < len(text) and text[end] == "\n":
            end += 1
        elif start > 0 and text[start - 1] == "\n":
            start -= 1
        return _renumber(text[:start] + text[end:])
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


def _doc(text: str) -> dict | list:
    doc, error = strict_json(text)
    if error is not None:
        raise ValueError(f"not a JSON response: {error}")
    return doc


def serialize_like(doc, body: str) -> str:
    """`doc` as JSON in the layout of `body`: one line; one recommendation per line; or
    indented like it."""
    if "\n" not in body.strip():
        return json.dumps(doc, ensure_ascii=False)
    object_line = re.search(r"^([ \t]+)\{.*\},?[ \t]*$", body, re.M)
    if object_line is None:
        indent = re.search(r"^([ \t]+)\S", body, re.M)
        return json.dumps(doc, ensure_ascii=False, indent=len(indent.group(1)) if indent else 2)
    inner = object_line.group(1)
    key_line = re.search(r'^([ \t]+)"', body, re.M)
    outer = key_line.group(1) if key_line else inner[: len(inner) // 2]

    def objects(items: list) -> str:
        return ",\n".join(inner + json.dumps(o, ensure_ascii=False) for o in items)

    if isinstance(doc, list):
        return "[\n" + objects(doc) + "\n]"
    recs = json_recommendations(doc)
    parts = []
    for key, value in doc.items():
        name = json.dumps(key, ensure_ascii=False)
        if value is recs:
            parts.append(f"{outer}{name}: [\n" + objects(value) + f"\n{outer}]")
        else:
            parts.append(f"{outer}{name}: {json.dumps(value, ensure_ascii=False)}")
    return "{\n" + ",\n".join(parts) + "\n}"


def _dump(doc, text: str) -> str:
    """`text` with its JSON body replaced by `doc` in the body's own layout (fence kept)."""
    body, offset = json_body(text)
    return text[:offset] + serialize_like(doc, body) + text[offset + len(body) :]


def _recs(doc) -> list:
    recs = json_recommendations(doc)
    if recs is None:
        raise ValueError("the JSON response holds no list of recommendations")
    return recs


def _json_object(ev: EvidenceItem, template: dict) -> dict:
    """The JSON object `template` (a logged recommendation of this response) about `ev`: every
    key holding an item fact takes `ev`'s value, the rest (its reason) stays."""
    values = {
        "item_id": ev.item_id,
        "id": ev.item_id,
        "name": ev.title,
        "title": ev.title,
        "price": None if ev.price is None else (int(ev.price) if ev.price == int(ev.price) else ev.price),
        "rating": ev.rating,
        "distance_km": None if ev.distance_km is None else round(ev.distance_km, 2),
        "category": ev.category,
        "opening_hours": ", ".join(ev.hours) if ev.hours else None,
        **ev.claim_lists,
    }  # fmt: skip
    obj = {}
    for key, value in template.items():
        if key in values:
            if values[key] is not None:
                obj[key] = values[key]
        elif isinstance(value, list):
            continue  # another item's list attribute (dishes of a restaurant) is not ev's
        else:
            obj[key] = value
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


def _sentence_join(lang: str) -> str:
    return "" if lang == "zh" else " "


def _with_word(word: str, sentence: str, lang: str) -> str:
    """A logged sentence that now says `word`, the sentence's own wording and case kept
    (Chinese: the word leads it; English: it closes it)."""
    if lang == "zh":
        return word + sentence
    body = sentence.rstrip()
    end = body[-1] if body and body[-1] in ".!?" else "."
    return body.rstrip(".!?") + ", " + word + end


def _fresh_reasons(bank: PhraseBank, lang: str, text: str, rng: random.Random) -> list[str]:
    """The bank's logged reasons of `lang`, shuffled, those the response does not say first."""
    pool = list(bank.phrases.get(("reason", lang), []))
    rng.shuffle(pool)
    return [r for r in pool if r not in text] + [r for r in pool if r in text]


def _reasons_for(
    bank: PhraseBank, lang: str, text: str, rng: random.Random, need: int
) -> list[str] | None:
    """Logged reasons of `lang` adding up to `need` characters (fresh ones first); None when
    the bank has none."""
    pool = _fresh_reasons(bank, lang, text, rng)
    out, total = [], 0
    for sentence in pool * 8:  # a long limit may need a sentence more than once
        if total >= need:
            break
        out.append(sentence)
        total += len(sentence) + 1
    return out if total >= need else None


# -- the operators ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class PerturbInput:
    """What an operator edits: the response as parsed, its constraints and evidence, the seeded
    generator and the domain's logged phrasings."""

    constraints: list[Constraint]
    parsed: ParsedResponse
    evidence: list[EvidenceItem]
    rng: random.Random
    bank: PhraseBank

    @property
    def text(self) -> str:
        return self.parsed.text

    @property
    def lang(self) -> str:
        return response_language(self.parsed, self.constraints)

    @property
    def is_json(self) -> bool:
        return self.parsed.format == "json" and self.parsed.json_valid

    @property
    def recs(self) -> list[Recommendation]:
        return self.parsed.recommendations


def operator(name: str, breaks: str, json_only: bool = False):
    """Register the decorated function as operator `name`, which breaks constraint type
    `breaks` (`json_only`: it needs a valid JSON response)."""

    def register(fn: Callable[[PerturbInput], str | None]):
        if name in OPERATOR_FUNCTIONS:
            raise ValueError(f"operator {name!r} is registered twice")
        OPERATORS[name] = breaks
        OPERATOR_FUNCTIONS[name] = fn
        if json_only:
            JSON_OPERATORS.add(name)
        return fn

    return register


def perturb(
    op: str,
    constraints: list[Constraint],
    parsed: ParsedResponse,
    evidence: list[EvidenceItem],
    rng: random.Random,
    bank: PhraseBank | None = None,
) -> str | None:
    """The response edited by operator `op`, or None when the operator cannot apply here.
    `bank`: the domain's logged phrasings (`phrases.harvest`)."""
    fn = OPERATOR_FUNCTIONS.get(op)
    if fn is None:
        raise ValueError(f"unknown operator {op!r}; known: {', '.join(OPERATORS)}")
    return fn(PerturbInput(constraints, parsed, evidence, rng, bank or _EMPTY))


@operator("drop_json_field", "json_format", json_only=True)
def drop_json_field(x: PerturbInput) -> str | None:
    c = _constraint(x.constraints, "json_format")
    doc = _doc(x.text)
    options = [(i, f) for i, r in enumerate(_recs(doc)) for f in c.fields if f in r]
    if not options:
        return None
    i, f = x.rng.choice(options)
    del _recs(doc)[i][f]
    return _dump(doc, x.text)


@operator("break_json", "json_format", json_only=True)
def break_json(x: PerturbInput) -> str | None:
    """The answer cut off before its JSON ends (a token limit): no character is added, so the
    broken answer holds no string its compliant form lacks (`schemas.constraints.cut_off_json`;
    the log generator breaks JSON the same way)."""
    body, offset = json_body(x.text)
    return cut_off_json(x.text, offset, offset + len(body), x.rng.random())


@operator("wrong_item_count", "item_count")
def wrong_item_count(x: PerturbInput) -> str | None:
    text, recs, rng, is_json = x.text, x.recs, x.rng, x.is_json
    c = _constraint(x.constraints, "item_count")
    n = len(recs)
    if (c.mode == "exactly" and n != c.n) or (c.mode == "at_most" and n > c.n):
        return None  # already breaks it: nothing to synthesize
    must = _must_ids(x.constraints, x.evidence)
    removable = [r for r in recs if r.item_id not in must]
    if c.mode == "exactly" and n >= 2 and removable and rng.random() < 0.5:
        return _remove(text, is_json, rng.choice(removable), recs)
    add = c.n + 1 - n
    pool = _unrecommended(x.parsed, x.evidence, x.constraints, within=True)
    if len(pool) < add:
        if c.mode == "exactly" and n >= 2 and removable:
            return _remove(text, is_json, rng.choice(removable), recs)
        return None
    return _add(text, x.parsed, is_json, x.bank.by_mentions(pool, rng)[:add], x.lang, rng, x.bank)


@operator("exceed_length", "max_length")
def exceed_length(x: PerturbInput) -> str | None:
    c = _constraint(x.constraints, "max_length")
    return _lengthened(x.text, x.parsed, x.is_json, x.evidence, c.chars, x.lang, x.rng, x.bank)


@operator("wrong_language", "language")
def wrong_language(x: PerturbInput) -> str | None:
    text, rng, bank = x.text, x.rng, x.bank
    target = "en" if x.lang == "zh" else "zh"
    if x.is_json:
        doc = _doc(text)
        changed = False
        for obj in _recs(doc):
            if isinstance(obj, dict) and "reason" in obj:
                reason = bank.pick("reason", target, rng)
                if reason is None:
                    return None
                obj["reason"], changed = reason, True
        if isinstance(doc, dict):
            summary = bank.pick("summary", target, rng) or bank.pick("closer", target, rng)
            if summary is not None:
                doc["summary"], changed = summary, True
        return _dump(doc, text) if changed else None
    return _translated(text, x.parsed, x.evidence, target, rng, bank)


def _over_limit_item(x: PerturbInput, ctype: str) -> str | None:
    """Replace a recommended item with one over the price or distance limit."""
    c = _constraint(x.constraints, ctype)
    limit = c.amount if ctype == "max_price" else c.km
    used = {r.item_id for r in x.recs}
    over = [
        e
        for e in _unrecommended(x.parsed, x.evidence, x.constraints, within=False)
        if e.item_id not in used
        and (e.price if ctype == "max_price" else e.distance_km) is not None
        and (e.price if ctype == "max_price" else e.distance_km) > limit
    ]
    must = _must_ids(x.constraints, x.evidence)
    targets = [r for r in x.recs if r.item_id not in must]
    if not over or not targets:
        return None
    rng = x.rng
    new = x.bank.by_mentions(over, rng)[0]
    return _replace(x.text, x.parsed, x.is_json, rng.choice(targets), new, x.lang, rng, x.bank)


@operator("over_price_item", "max_price")
def over_price_item(x: PerturbInput) -> str | None:
    return _over_limit_item(x, "max_price")


@operator("over_distance_item", "max_distance_km")
def over_distance_item(x: PerturbInput) -> str | None:
    return _over_limit_item(x, "max_distance_km")


@operator("add_forbidden_word", "forbidden_content")
def add_forbidden_word(x: PerturbInput) -> str | None:
    c = _constraint(x.constraints, "forbidden_content")
    return _with_forbidden(
        x.text, x.parsed, x.is_json, x.rng.choice(c.words), x.lang, x.rng, x.bank
    )


@operator("drop_must_mention", "must_mention")
def drop_must_mention(x: PerturbInput) -> str | None:
    text, recs, rng, is_json = x.text, x.recs, x.rng, x.is_json
    must = _must_ids(x.constraints, x.evidence)
    hit = [r for r in recs if r.item_id in must]
    if not hit:
        return None
    count = _constraint(x.constraints, "item_count")
    pool = [
        e
        for e in _unrecommended(x.parsed, x.evidence, x.constraints, within=True)
        if e.item_id not in must
    ]
    if (count is not None and count.mode == "exactly") or len(recs) == 1:
        if not pool:
            return None if len(recs) == 1 else _remove(text, is_json, hit[0], recs)
        new = x.bank.by_mentions(pool, rng)[0]
        return _replace(text, x.parsed, is_json, hit[0], new, x.lang, rng, x.bank)
    return _remove(text, is_json, hit[0], recs)


def _lengthened(text, parsed, is_json, evidence, chars, lang, rng, bank) -> str | None:
    """The response over `chars` characters: more retrieved items, each in the wording of the
    response's own lines (or objects), then, if still short, logged reasons after its lines."""
    pool = [e for e in evidence if e.item_id not in {r.item_id for r in parsed.recommendations}]
    pool = bank.by_mentions(pool, rng)
    out = text
    for k in range(1, len(pool) + 1):
        if len(out) > chars:
            break
        out = _add(text, parsed, is_json, pool[:k], lang, rng, bank) or out
    if len(out) > chars:
        return out
    sentences = _reasons_for(bank, lang, text, rng, chars - len(out) + 1)
    if not sentences:
        return None
    reparsed = parse_response(out, evidence)
    if is_json:
        doc = _doc(out)
        objects = [o for o in _recs(doc) if isinstance(o, dict) and "reason" in o]
        if not objects:
            return None
        for j, sentence in enumerate(sentences):
            o = objects[j % len(objects)]
            o["reason"] = str(o["reason"]) + _sentence_join(lang) + sentence
        out = _dump(doc, out)
    else:
        out = _add_sentences(out, reparsed.recommendations, sentences, lang)
    return out if len(out) > chars else None


def _with_forbidden(text, parsed, is_json, word, lang, rng, bank) -> str | None:
    """The response saying `word` inside one of its own reasons (a JSON `reason`, or a free
    sentence of a line); a logged reason saying it when the response has none."""
    if is_json:
        doc = _doc(text)
        objects = [
            o for o in _recs(doc) if isinstance(o, dict) and isinstance(o.get("reason"), str)
        ]
        if objects:
            target = rng.choice(objects)
            target["reason"] = _with_word(word, target["reason"], lang)
            return _dump(doc, text)
        if isinstance(doc, dict) and isinstance(doc.get("summary"), str):
            doc["summary"] = _with_word(word, doc["summary"], lang)
            return _dump(doc, text)
        return None
    options = [
        (rec, sentence)
        for rec in parsed.recommendations
        for sentence in reason_sentences(text, rec)
    ]
    if options:
        rec, sentence = rng.choice(options)
        start, end = rec.span
        at = text.find(sentence, rec.name_span[1], end)
        if at >= 0:
            return text[:at] + _with_word(word, sentence, lang) + text[at + len(sentence) :]
    fresh = _fresh_reasons(bank, lang, text, rng)
    if not fresh:
        return None
    recs = parsed.recommendations
    return _add_sentences(
        text, [rng.choice(recs)] if recs else [], [_with_word(word, fresh[0], lang)], lang
    )


def _add_sentences(text: str, recs: list[Recommendation], sentences: list[str], lang: str) -> str:
    """`sentences` added at the ends of the recommendation lines in turn (at the end of the
    response when it has none)."""
    if not recs:
        return text.rstrip("\n") + "\n" + _sentence_join(lang).join(sentences)
    at_line: dict[int, list[str]] = {}
    for j, sentence in enumerate(sentences):
        at_line.setdefault(j % len(recs), []).append(sentence)
    for j in sorted(at_line, key=lambda k: recs[k].span[1], reverse=True):
        end = recs[j].span[1]
        join = _sentence_join(lang)
        text = text[:end] + join + join.join(at_line[j]) + text[end:]
    return text


def _translated(text, parsed, evidence, target, rng, bank: PhraseBank) -> str | None:
    """The text response in the `target` language: each line in the wording of a logged line of
    that language claiming the same facts of the same item; the logged opener and closer."""
    by_id = {e.item_id: e for e in evidence}
    lines = []
    for rec in parsed.recommendations:
        ev = by_id.get(rec.item_id) if rec.item_id else None
        template = bank.pick_template(target, frozenset(c.field for c in rec.claims), rng)
        if ev is None or template is None:
            return None
        line = fill(template, rec.name, value_texts(ev, template))
        if line is None:
            return None
        prefix = _PREFIX.match(text[rec.span[0] : rec.span[1]])
        lines.append((prefix.group(0) if prefix else "") + line)
    if not lines:
        return None
    opener, closer = bank.pick("opener", target, rng), bank.pick("closer", target, rng)
    return "\n".join([p for p in (opener, *lines, closer) if p])


def _remove(text: str, is_json: bool, rec: Recommendation, recs: list[Recommendation]) -> str:
    if is_json:
        doc = _doc(text)
        del _recs(doc)[recs.index(rec)]
        return _dump(doc, text)
    return _lines_replace(text, rec, None)


def _add(text, parsed, is_json, new: list[EvidenceItem], lang, rng, bank) -> str | None:
    if is_json:
        doc = _doc(text)
        recs = _recs(doc)
        if not recs or not isinstance(recs[-1], dict):
            return None
        for ev in new:
            recs.append(_json_object(ev, rng.choice([r for r in recs if isinstance(r, dict)])))
        return _dump(doc, text)
    templates = _templates(text, parsed, bank, lang, rng)
    for ev in new:
        line = _line_for(ev, templates, rng)
        if line is None:
            return None
        text = _append_line(text, parsed, line)
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


def _replace(text, parsed, is_json, old: Recommendation, new: EvidenceItem, lang, rng, bank):
    if is_json:
        doc = _doc(text)
        i = parsed.recommendations.index(old)
        if not isinstance(_recs(doc)[i], dict):
            return None
        _recs(doc)[i] = _json_object(new, _recs(doc)[i])
        return _dump(doc, text)
    line = _line_for(new, _templates(text, parsed, bank, lang, rng, first=old), rng)
    return None if line is None else _lines_replace(text, old, line)
