"""Targeted synthesis of hallucinations: rewrite one true claim of a consistent response into a
false one, or add an item the evidence does not hold.

Operators edit the claimed value in place (its span in the response), so the rest of the response
stays byte-identical and the negative is a near miss of its positive. Every false value is a real
value of another item of the same domain (`ItemPool`, from the evidence of the domain's turns):
another retrieved item's price, rating, distance, category or list values, another item's name
and id for an item the evidence does not hold. Nothing is invented, so no string gives a negative
away. A value that only translates the true one (the other-language name of the same category)
is not an error and is never planted. The caller re-checks every variant and keeps it only when
the claim checker finds the planted error.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import polars as pl

from assets.dimensions.common.negatives import PositiveRows
from assets.dimensions.common.transcripts import evidence_items
from assets.dimensions.factual_consistency.evidence import EvidenceCache, EvidenceItem
from assets.dimensions.factual_consistency.responses import Claim, ParsedResponse

# The perturbation operators, registered with `@operator` below in the order they are listed:
# name -> (parsed response, evidence, seeded generator, item pool) -> the response with one
# planted error, or None when it cannot apply.
OPERATORS: dict[str, Callable[..., str | None]] = {}


def operator(name: str):
    def register(fn):
        if name in OPERATORS:
            raise ValueError(f"operator {name!r} is registered twice")
        OPERATORS[name] = fn
        return fn

    return register


# Turns read per domain for the pool (a seeded sample): a domain's items recur across turns.
POOL_ROWS = 2_000
# A changed number differs from the true one by at least this much (relative; rating: absolute),
# so the error is one a reader can see, not a rounding.
MIN_PRICE_CHANGE = 0.15
MIN_RATING_CHANGE = 0.3
MIN_DISTANCE_CHANGE = 0.3
_DRAWS = 64  # draws of an unheld pool name before `invent_item` filters the pool instead
_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class ItemPool:
    """The items of a domain seen in its turns' evidence: the values synthesis draws from, and
    which categories are one category in two languages (`same_category`)."""

    items: list[EvidenceItem] = field(default_factory=list)
    canonical: dict[str, str] = field(default_factory=dict)  # casefolded category -> canonical
    # Memos: the operators scan the whole pool on every attempt.
    _keys: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    _folded: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False, compare=False)
    _scripts: dict[bool, list] = field(default_factory=dict, repr=False, compare=False)
    _outside: dict[str | None, tuple[list, dict]] = field(
        default_factory=dict, repr=False, compare=False
    )
    _values: dict[str, list[float]] = field(default_factory=dict, repr=False, compare=False)

    def category_key(self, category: str | None) -> str | None:
        """The canonical casefolded category (None for none): equal keys, one category."""
        if not category:
            return None
        if category not in self._keys:
            key = category.strip().casefold()
            self._keys[category] = self.canonical.get(key, key)
        return self._keys[category]

    def same_category(self, a: str | None, b: str | None) -> bool:
        key = self.category_key(a)
        return key is not None and key == self.category_key(b)

    def names_in_script(self, cjk: bool) -> list[tuple[EvidenceItem, str]]:
        """(item, name) for every non-blank name of every pool item written in Chinese script
        (`cjk`) or not, in pool order."""
        if cjk not in self._scripts:
            self._scripts[cjk] = [
                (e, n)
                for e in self.items
                for n in e.names
                if bool(_CJK.search(n)) == cjk and n.strip()
            ]
        return self._scripts[cjk]

    def folded_names(self, item: EvidenceItem) -> tuple[str, ...]:
        """The item's names, casefolded."""
        if item.item_id not in self._folded:
            self._folded[item.item_id] = tuple(n.casefold() for n in item.names)
        return self._folded[item.item_id]

    def values(self, attribute: str) -> list[float]:
        """The distinct values of an attribute over the pool, sorted."""
        if attribute not in self._values:
            found = {v for e in self.items if (v := getattr(e, attribute)) is not None}
            self._values[attribute] = sorted(found)
        return self._values[attribute]

    def outside(self, category_key: str | None) -> tuple[list[EvidenceItem], dict[str, list[int]]]:
        """The pool items of another category than `category_key` (all of them for None), in
        pool order, and where each item id sits among them."""
        if category_key not in self._outside:
            items = [
                e
                for e in self.items
                if category_key is None or self.category_key(e.category) != category_key
            ]
            where: dict[str, list[int]] = {}
            for i, e in enumerate(items):
                where.setdefault(e.item_id, []).append(i)
            self._outside[category_key] = (items, where)
        return self._outside[category_key]


class _Without(Sequence):
    """`head + tail` without the positions `skip` of `tail`, as a sequence: what `rng.sample`
    draws from (by index) without a list of the whole pool made for every attempt."""

    def __init__(self, head: list, tail: list, skip: list[int]):
        self.head, self.tail, self.skip = head, tail, sorted(skip)

    def __len__(self) -> int:
        return len(self.head) + len(self.tail) - len(self.skip)

    def __getitem__(self, i: int):
        if not 0 <= i < len(self):
            raise IndexError(i)
        if i < len(self.head):
            return self.head[i]
        j = i - len(self.head)
        for s in self.skip:  # a handful of positions at most: one item id's
            if j >= s:
                j += 1
        return self.tail[j]


def category_names(evidence: pl.Series) -> dict[str, str]:
    """`item_category_names` of the distinct items of a list[ITEM] column."""
    if evidence.len() == 0:
        return {}
    return item_category_names(evidence_items(evidence))


def item_category_names(items: pl.DataFrame) -> dict[str, str]:
    """Casefolded category -> canonical name over distinct evidence items
    (`transcripts.evidence_items`):
    the category merge the relevance vocabulary learns from items' names in both languages
    (`query_item_relevance.vocabulary`), kept only where it joins a Chinese and a non-Chinese
    name. Categories sharing a canonical name are one category in two languages
    (`claims.CategoryNames`)."""
    from assets.dimensions.query_item_relevance.vocabulary import learn_vocabulary

    structs = items.sort("item_id")
    if structs.height == 0:
        return {}
    merged = learn_vocabulary(structs, None).categories
    members: dict[str, list[str]] = {}
    for category, canonical in merged.select("category", "canonical").iter_rows():
        members.setdefault(canonical, []).append(category)
    out = {}
    for canonical, names in members.items():
        # A translation changes the script: two categories in one script that the name profiles
        # merge are two categories (sister shops), and a claim of one about the other is wrong.
        translated = len({bool(_CJK.search(n)) for n in names}) > 1
        for name in names:
            key = name.strip().casefold()
            out[key] = canonical if translated else key
    return out


def item_pool(positives: PositiveRows, seed: int) -> ItemPool:
    """The pool of a domain's positive turns: distinct evidence items of a seeded sample of at
    most POOL_ROWS turns, and the category merge over every turn's items (`category_names`)."""
    if positives.height == 0:
        return ItemPool()
    canonical = item_category_names(positives.evidence_items())
    sample = positives.rows(positives.sample(POOL_ROWS, seed), ["evidence"])
    items = [
        e for ev in EvidenceCache().column(sample["evidence"]) for e in ev
    ]  # parsed views, deduplicated below
    by_id = {e.item_id: e for e in items}
    return ItemPool(items=[by_id[i] for i in sorted(by_id)], canonical=canonical)


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


def number_text(old: str, value: float, decimals: int | None = None) -> str:
    """`value` written like the number in `old` (JSON number, or digits inside text); with
    `decimals`, exactly that many."""
    m = re.search(r"\d+(?:,\d{3})*(?:\.\d+)?", old)
    if decimals is None:
        new = f"{value:.2f}".rstrip("0").rstrip(".") or "0"
    else:
        new = f"{value:.{decimals}f}"
    return old[: m.start()] + new + old[m.end() :] if m else new


def _other_value(
    true: float, candidates: list[float], far_enough, rng: random.Random
) -> float | None:
    options = sorted({v for v in candidates if far_enough(true, v)})
    return rng.choice(options) if options else None


def _changed_number(claim: Claim, field: str, evidence, pool: ItemPool, rng) -> str | None:
    """Another item's real value for a numeric claim, written like the claim: first the other
    retrieved items' values, then the domain's."""
    v = float(claim.value)
    attribute = {"price": "price", "rating": "rating", "distance": "distance_km"}[field]
    if field == "price":

        def far(a, b):
            return abs(a - b) >= max(1.0, MIN_PRICE_CHANGE * a)
    elif field == "rating":

        def far(a, b):
            return abs(a - b) >= MIN_RATING_CHANGE
    else:

        def far(a, b):
            return abs(a - b) >= max(0.2, MIN_DISTANCE_CHANGE * a)

    local = [x for e in evidence if (x := getattr(e, attribute)) is not None]
    new = _other_value(v, local, far, rng)
    if new is None:
        new = _other_value(v, pool.values(attribute), far, rng)
    if new is None:
        return None
    if field == "rating":
        return number_text(claim.text, new, decimals=1 if "." in claim.text else 0)
    if field == "price":
        return number_text(claim.text, round(new, 2))
    # Keep the unit: a value written in metres is rewritten in metres, with the claim's decimals.
    if re.search(r"米|\d\s*m\b|meters?|metres?", claim.text) and not re.search(
        r"公里|千米|km|kilomet", claim.text, re.IGNORECASE
    ):
        return number_text(claim.text, round(new * 1000, -1), decimals=0)
    digits = re.search(r"\.(\d+)", claim.text)
    return number_text(claim.text, round(new, len(digits.group(1)) if digits else 1))


def perturb(
    op: str,
    parsed: ParsedResponse,
    evidence: list[EvidenceItem],
    rng: random.Random,
    pool: ItemPool | None = None,
) -> str | None:
    """The response with one planted factual error, or None when `op` cannot apply. `pool`: the
    domain's items (`item_pool`); without it, only this turn's evidence is drawn from."""
    fn = OPERATORS.get(op)
    if fn is None:
        raise ValueError(f"unknown operator {op!r}; known: {', '.join(OPERATORS)}")
    return fn(parsed, evidence, rng, pool or ItemPool(items=list(evidence)))


def _change_number(
    field_name: str, parsed: ParsedResponse, evidence, rng, pool: ItemPool
) -> str | None:
    options = _claims(parsed, (field_name,))
    if not options:
        return None
    i, claim = rng.choice(options)
    by_id = {e.item_id: e for e in evidence}
    own = by_id[parsed.recommendations[i].item_id]
    others = [e for e in evidence if e.item_id != own.item_id]
    new = _changed_number(claim, field_name, others, pool, rng)
    return None if new is None else _splice(parsed.text, claim.span, new)


@operator("change_price")
def change_price(parsed: ParsedResponse, evidence, rng, pool: ItemPool) -> str | None:
    return _change_number("price", parsed, evidence, rng, pool)


@operator("change_rating")
def change_rating(parsed: ParsedResponse, evidence, rng, pool: ItemPool) -> str | None:
    return _change_number("rating", parsed, evidence, rng, pool)


@operator("change_distance")
def change_distance(parsed: ParsedResponse, evidence, rng, pool: ItemPool) -> str | None:
    return _change_number("distance", parsed, evidence, rng, pool)


@operator("swap_attribute")
def swap_attribute(parsed: ParsedResponse, evidence, rng, pool: ItemPool) -> str | None:
    by_id = {e.item_id: e for e in evidence}
    options = _claims(parsed, None)
    options = [(i, c) for i, c in options if c.field not in ("price", "rating", "distance")]
    rng.shuffle(options)
    for i, claim in options:
        own = by_id[parsed.recommendations[i].item_id]
        own_key = pool.category_key(own.category)
        # Another category's items: their values are not the own ones in another language.
        # (The evidence's, then the pool's: a view of the pool's, not a copy per attempt.)
        local = [
            e
            for e in evidence
            if e.item_id != own.item_id
            and (own_key is None or pool.category_key(e.category) != own_key)
        ]
        outside, where = pool.outside(own_key)
        others = _Without(local, outside, where.get(own.item_id, []))
        for other in rng.sample(others, min(len(others), 30)):
            new = _attribute_text(claim, own, other, parsed.format == "json", pool)
            if new is not None:
                return _splice(parsed.text, claim.span, new)
    return None


@operator("invent_item")
def invent_item(parsed: ParsedResponse, evidence, rng, pool: ItemPool) -> str | None:
    return _invent(parsed, evidence, pool, rng)


def _invent(parsed: ParsedResponse, evidence, pool: ItemPool, rng) -> str | None:
    """A copy of one recommendation naming another real item of the domain, one the evidence
    does not hold (its name in the recommendation's script, its own id in JSON)."""
    if not parsed.recommendations:
        return None
    text = parsed.text
    rec = rng.choice(parsed.recommendations)
    held = {n.casefold() for e in evidence for n in e.names}
    ids = {e.item_id for e in evidence}

    def unheld(e: EvidenceItem) -> bool:  # no name of it inside a held name or holding one
        return e.item_id not in ids and not any(
            n in h or h in n for n in pool.folded_names(e) for h in held
        )

    # A name of the recommendation's script, uniform over the pool items the evidence does not
    # hold: drawn from all the pool's names and redrawn when held (rejection sampling, same
    # distribution), since scanning a paper-scale pool on every attempt dominated the build.
    names = pool.names_in_script(bool(_CJK.search(rec.name)))
    if not names:
        return None
    for _ in range(_DRAWS):
        other, name = names[rng.randrange(len(names))]
        if unheld(other):
            break
    else:  # mostly held (a small pool): choose among the rest
        names = [(e, n) for e, n in names if unheld(e)]
        if not names:
            return None
        other, name = rng.choice(names)
    s0, s1 = rec.span
    block = text[s0:s1]
    ns0, ns1 = rec.name_span[0] - s0, rec.name_span[1] - s0
    last = parsed.recommendations[-1].span[1]
    if parsed.format == "json":
        if not (0 <= ns0 < ns1 <= len(block)):
            return None
        new_block = block[:ns0] + json.dumps(name, ensure_ascii=False) + block[ns1:]
        if rec.stated_item_id:
            new_block = new_block.replace(
                json.dumps(rec.stated_item_id), json.dumps(other.item_id), 1
            )
        return text[:last] + _object_separator(parsed) + new_block + text[last:]
    if not (0 <= ns0 < ns1 <= len(block)):
        return None
    new_block = block[:ns0] + name + block[ns1:]
    m = re.match(r"^[ \t]*(\d{1,2})([.、)）])", new_block)
    last = parsed.recommendations[-1]
    n = len(parsed.recommendations) + 1
    if m:
        new_block = f"{n}{m.group(2)}" + new_block[m.end() :]
    return text[: last.span[1]] + "\n" + new_block + text[last.span[1] :]


def _object_separator(parsed: ParsedResponse) -> str:
    """What separates two recommendation objects in this JSON response (as logged): the text
    between its last two, else a comma and the layout's line break and indentation."""
    recs = parsed.recommendations
    if len(recs) >= 2:
        between = parsed.text[recs[-2].span[1] : recs[-1].span[0]]
        if between.strip() == ",":
            return between
    start = recs[-1].span[0]
    line_start = parsed.text.rfind("\n", 0, start) + 1
    indent = parsed.text[line_start:start]
    return ",\n" + indent if not indent.strip() and line_start > 0 else ", "


def _attribute_text(
    claim: Claim, own: EvidenceItem, other: EvidenceItem, is_json: bool, pool: ItemPool
) -> str | None:
    """The other item's value of the claim's field, written in the claim's style; None when it
    would still be true of the own item, or only translates its value."""
    if claim.field == "category":
        if not other.category or pool.same_category(other.category, own.category):
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
    # As many values as the claim lists (its separators), so the line keeps its shape.
    count = max(1, len(claim.value) if isinstance(claim.value, list) else 1)
    picked = theirs[: min(count, len(theirs))]
    if is_json:
        return json.dumps(picked, ensure_ascii=False)
    sep = "、" if "、" in claim.text or re.search(r"[\u4e00-\u9fff]", claim.text) else ", "
    return sep.join(picked)
