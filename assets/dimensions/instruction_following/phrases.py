"""Real phrasings for synthetic negatives, harvested from a domain's logged compliant responses.

A synthetic negative that adds text the logs never hold ("温馨提示：..." filler, a fixed forbidden
sentence, invented reasons) gives itself away by that text: a rule "label 0 when the response
holds a string only train negatives hold" then scores it without judging anything. The operators
in `synthesis.py` therefore write only what the logged positives of the same domain write:
- line templates: a recommendation line with its item name and each claimed value as slots
  (`LineTemplate`), so a new or translated line keeps a logged line's wording and field set;
- reasons: the free sentences of recommendation lines and the `reason` values of JSON objects;
- openers and closers: the text before the first and after the last recommendation line, and
  the `summary` values of JSON responses;
each by language (`verify.detect_language`). Nothing is invented: a bank without a phrase of the
needed kind and language makes the operator decline (return None), and the caller tries another.

The bank also counts how many logged compliant responses name each retrieved item. An operator
that adds or swaps in an item draws it by that count (`PhraseBank.by_mentions`): an item no
compliant answer names, added to negatives only, would give them away by its name and values.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

import polars as pl

from assets.dimensions.common.negatives import PositiveRows
from assets.dimensions.factual_consistency.evidence import EvidenceCache
from assets.dimensions.factual_consistency.responses import (
    ParsedResponse,
    Recommendation,
    json_recommendations,
    parse_response,
    strict_json,
)
from assets.dimensions.instruction_following.verify import detect_language

# Positives read per domain to fill the bank (a seeded sample): phrasings repeat, and parsing
# every response of a million-turn domain would cost more than the synthesis.
SAMPLE_ROWS = 2_000
_SENTENCE = re.compile(r".+?(?:[。！？!?]+|\.(?=\s|$)|$)", re.S)
_PREFIX = re.compile(r"^[ \t]*(?:\d{1,2}[.、)）]|[-*•·])[ \t]*")
_LEAD = re.compile(r"^[^\w\u4e00-\u9fff]+")


@dataclass(frozen=True)
class LineTemplate:
    """A logged recommendation line (without its list prefix) with the spans of its item name and
    of each claimed value, relative to the line."""

    text: str
    name: tuple[int, int]
    claims: tuple[tuple[str, tuple[int, int], str], ...]  # (field, span, claimed text)

    @cached_property  # read for every template on every pick; a template never changes
    def fields(self) -> frozenset[str]:
        return frozenset(f for f, _, _ in self.claims)

    @property
    def frame(self) -> str:
        """The line without its name and values: the wording whose language counts."""
        out = self.text
        for _, (s, e) in sorted([("", self.name)] + [(f, sp) for f, sp, _ in self.claims],
                                key=lambda x: x[1][0], reverse=True):  # fmt: skip
            out = out[:s] + " " + out[e:]
        return out


def line_template(text: str, rec: Recommendation) -> LineTemplate | None:
    """The template of a text recommendation line of `text`; None when its spans overlap."""
    start, end = rec.span
    line = text[start:end]
    prefix = _PREFIX.match(line)
    cut = start + (prefix.end() if prefix else 0)
    spans = [("", rec.name_span, rec.name)] + [(c.field, c.span, c.text) for c in rec.claims]
    spans.sort(key=lambda s: s[1][0])
    if any(a[1][1] > b[1][0] for a, b in zip(spans, spans[1:], strict=False)):
        return None
    if any(s[1][0] < cut or s[1][1] > end for s in spans):
        return None
    rel = [(f, (s - cut, e - cut), t) for f, (s, e), t in spans]
    return LineTemplate(
        text=text[cut:end],
        name=next(sp for f, sp, _ in rel if f == ""),
        claims=tuple((f, sp, t) for f, sp, t in rel if f),
    )


def fill(template: LineTemplate, name: str, values: dict[str, str]) -> str | None:
    """The template's line with `name` and the claimed values replaced by `values` (field ->
    text); None when a field of the template has no value."""
    if any(f not in values for f, _, _ in template.claims):
        return None
    out = template.text
    slots = [(template.name, name)] + [(sp, values[f]) for f, sp, _ in template.claims]
    for (s, e), new in sorted(slots, key=lambda x: x[0][0], reverse=True):
        out = out[:s] + new + out[e:]
    return out


def reason_sentences(text: str, rec: Recommendation) -> list[str]:
    """The free sentences of a text recommendation line: those after its name that hold no
    claimed value."""
    end = rec.span[1]
    taken = [c.span for c in rec.claims]
    out = []
    for m in _SENTENCE.finditer(text, rec.name_span[1], end):
        s, e = m.start(), m.end()
        # what is left of the facts' punctuation, a closing bracket of the name, a dash
        sentence = _LEAD.sub("", text[s:e].strip()).strip()
        if not sentence or any(a < e and b > s for a, b in taken):
            continue
        if re.search(r"\w", sentence):
            out.append(sentence)
    return out


@dataclass
class PhraseBank:
    """Phrases by kind ("reason", "opener", "closer", "summary") and language, and line
    templates by language."""

    phrases: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    templates: dict[str, list[LineTemplate]] = field(default_factory=dict)
    mentions: Counter[str] = field(default_factory=Counter)  # item id -> responses naming it
    # (lang, fields) -> the templates `pick_template` chooses from: the bank holds thousands of
    # templates and is asked once per added line, with a few distinct field sets.
    _choices: dict[tuple[str, frozenset[str]], list[LineTemplate]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def add(self, kind: str, text: str) -> None:
        text = text.strip()
        lang = detect_language(text) if text else None
        if lang is not None:
            bucket = self.phrases.setdefault((kind, lang), [])
            if text not in bucket:
                bucket.append(text)

    def pick(self, kind: str, lang: str, rng: random.Random) -> str | None:
        options = self.phrases.get((kind, lang))
        return rng.choice(options) if options else None

    def pick_template(
        self, lang: str, fields: frozenset[str], rng: random.Random
    ) -> LineTemplate | None:
        """A template of `lang` claiming exactly `fields`, else the largest subset of them."""
        key = (lang, fields)
        if key not in self._choices:
            options = [t for t in self.templates.get(lang, []) if t.fields <= fields]
            most = max((len(t.fields) for t in options), default=0)
            self._choices[key] = [t for t in options if len(t.fields) == most]
        options = self._choices[key]
        return rng.choice(options) if options else None

    def by_mentions(self, items: list, rng: random.Random) -> list:
        """`items` (each with an `item_id`) in a seeded order drawn without replacement with
        chances proportional to how many logged compliant responses name each; items none
        names come last, shuffled. The first k are a weighted sample of k."""
        # Efraimidis-Spirakis: key u^(1/w) per item, largest first.
        keyed = []
        for item in items:
            u, weight = rng.random(), self.mentions.get(item.item_id, 0)
            keyed.append((u ** (1.0 / weight) if weight else u - 1.0, item))
        return [item for _, item in sorted(keyed, key=lambda k: k[0], reverse=True)]

    def add_response(self, parsed: ParsedResponse) -> None:
        text = parsed.text
        if parsed.format != "json" or parsed.json_valid:
            self.mentions.update({r.item_id for r in parsed.recommendations if r.item_id})
        if parsed.format == "json":
            if not parsed.json_valid:
                return
            doc, _ = strict_json(text)
            for obj in json_recommendations(doc) or []:
                if isinstance(obj, dict) and isinstance(obj.get("reason"), str):
                    self.add("reason", obj["reason"])
            if isinstance(doc, dict) and isinstance(doc.get("summary"), str):
                self.add("summary", doc["summary"])
            return
        recs = [r for r in parsed.recommendations if r.item_id is not None]
        if not recs:
            return
        self.add("opener", text[: parsed.recommendations[0].span[0]])
        self.add("closer", text[parsed.recommendations[-1].span[1] :])
        for rec in recs:
            for sentence in reason_sentences(text, rec):
                self.add("reason", sentence)
            template = line_template(text, rec)
            lang = detect_language(template.frame) if template else None
            if template is not None and lang is not None:
                bucket = self.templates.setdefault(lang, [])
                if len(bucket) < 4 * SAMPLE_ROWS:
                    bucket.append(template)
                    self._choices.clear()

    def describe(self) -> dict:
        return {
            **{f"{k}_{lang}": len(v) for (k, lang), v in sorted(self.phrases.items())},
            **{f"line_templates_{lang}": len(v) for lang, v in sorted(self.templates.items())},
            "items_named": len(self.mentions),
        }


def harvest(positives: PositiveRows, seed: int) -> PhraseBank:
    """The phrase bank of a domain's logged positive (compliant) responses: a seeded sample of at
    most SAMPLE_ROWS of them; synthetic rows never feed it."""
    bank = PhraseBank()
    if positives.height == 0:
        return bank
    logged = None
    if "is_synthetic" in positives.schema:
        logged = ~pl.col("is_synthetic").fill_null(False)
    sample = positives.rows(positives.sample(SAMPLE_ROWS, seed, logged), ["response", "evidence"])
    for response, ev in zip(
        sample["response"].to_list(), EvidenceCache().column(sample["evidence"]), strict=True
    ):
        bank.add_response(parse_response(response or "", ev))
    return bank
    logged = positives
    if "is_synthetic" in positives.columns:
        logged = positives.filter(~pl.col("is_synthetic").fill_null(False))
    if logged.height > SAMPLE_ROWS:
        logged = logged.sort("turn_id").sample(SAMPLE_ROWS, seed=seed % (2**32))
    for response, ev in zip(
        logged["response"].to_list(), EvidenceCache().column(logged["evidence"]), strict=True
    ):
        bank.add_response(parse_response(response or "", ev))
    return bank
