"""Read an agent response as a list of recommendations, each with the facts it claims.

Two shapes are understood: JSON (an object with a `recommendations` list, or a bare list; also
inside a code fence, and read leniently when malformed: truncated, trailing commas, comments) and
text lists (numbered or bulleted lines). A recommendation is tied to a retrieved item by item id
(JSON) or by the longest retrieved title it contains; a line or object naming no retrieved item is
an invented item. Each claimed value keeps its character span in the response, so perturbation
operators can rewrite exactly that value. Both the instruction verifier and the claim checker read
responses through here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache, partial

from assets.dimensions.factual_consistency.evidence import EvidenceItem
from schemas.constraints import LIST_FIELD_LABELS, hours_ranges

_FENCE = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\n?(.*?)\n?[ \t]*```", re.S)
_OPEN_FENCE = re.compile(r"[ \t\n]*```[ \t]*(?:json|JSON)?[ \t]*\n")
_ITEM_LINE = re.compile(r"^[ \t]*(?:\d{1,2}[.、)）]|[-*•·])[ \t]*(\S.*)$", re.M)
_OBJECT = re.compile(r"\{[^{}]*\}?", re.S)
_JSON_PAIR = re.compile(
    r"""(["'])(?P<key>[A-Za-z_][A-Za-z0-9_]*)\1\s*:\s*"""
    r"""(?P<val>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|-?\d+(?:\.\d+)?|\[[^\[\]]*\]|null|true|false)"""
)
_LIST_STRING = re.compile(r""""((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'""")

NUM = r"(\d+(?:,\d{3})*(?:\.\d+)?)"
PRICE = re.compile(
    rf"(?:[¥￥$]|RMB|CNY|US\$)\s?{NUM}|{NUM}\s?(?:元|块|yuan\b|RMB\b|CNY\b|dollars?\b)",
    re.IGNORECASE,
)
RATING = re.compile(
    r"(?:评分|rating|rated|得分|score)\s*[:：]?\s*(\d(?:\.\d+)?)"
    r"|(\d(?:\.\d+)?)\s*(?:/\s*5|分(?!钟)|stars?\b|星)",
    re.IGNORECASE,
)
DISTANCE = re.compile(
    r"(\d+(?:\.\d+)?)\s*(公里|千米|kilometers?|kilometres?|km|米|meters?|metres?|m)(?![A-Za-z])",
    re.IGNORECASE,
)
HOURS = re.compile(
    r"\d{1,2}\s*[:：]\s*\d{2}\s*(?:-|–|—|~|～|至|到|to)\s*\d{1,2}\s*[:：]\s*\d{2}"
    r"|24\s*(?:小时|h\b|hours?\b|/7)|全天",
    re.IGNORECASE,
)
CATEGORY = re.compile(r"(?:类别|类型|品类|分类|category|type)\s*[:：]\s*", re.IGNORECASE)
_VALUE_END = re.compile(r"[;；|｜\n。，,]|\.(?:\s|$)|\)|）")
_LIST_END = re.compile(r"[;；|｜\n。]|\.(?:\s|$)")
_LIST_SPLIT = re.compile(r"\s*[、,，;；]\s*(?:and\s+)?")
# A joint inside one value ("hot and sour soup") is only a separator when the parts are items.
LIST_JOINT = re.compile(r"\s+and\s+|\s*(?:和|及)\s*")

JSON_KEY_FIELDS = {
    "name": "name",
    "title": "name",
    "price": "price",
    "rating": "rating",
    "score": "rating",
    "distance_km": "distance",
    "distance": "distance",
    "opening_hours": "opening_hours",
    "hours": "opening_hours",
    "category": "category",
}
PROSE_KEYS = ("reason", "summary", "note", "comment", "description", "intro", "message")


@dataclass
class Claim:
    field: str
    text: str  # the claimed value as written
    value: object  # parsed: float (price, rating, km), tuple of ranges, str, list[str]
    span: tuple[int, int]  # in the response


@dataclass
class Recommendation:
    item_id: str | None  # the retrieved item it is about; None = not a retrieved item
    name: str  # the name as written
    name_span: tuple[int, int]
    span: tuple[int, int]  # the whole line or object
    stated_item_id: str | None = None  # the id a JSON object states
    # Retrieved items sharing the matched title (chains' branches); the claim checker picks the
    # one the claims fit best (see claims.resolve_ambiguous).
    candidates: list[str] = field(default_factory=list)
    keys: dict[str, object] = field(default_factory=dict)  # JSON keys and values
    claims: list[Claim] = field(default_factory=list)


@dataclass
class ParsedResponse:
    text: str
    format: str  # "json" | "text"
    json_valid: bool  # strict JSON parse of the (fenced) body succeeded with a usable shape
    json_error: str | None
    recommendations: list[Recommendation]
    # `prose`, or the function that makes it on first read: removing the evidence strings is
    # costly and only the language checks read it.
    prose_source: str | Callable[[], str] = field(repr=False)

    @property
    def prose(self) -> str:
        """Natural-language text (JSON keys, ids and evidence strings removed)."""
        if not isinstance(self.prose_source, str):
            self.prose_source = self.prose_source()
        return self.prose_source


def _num(text: str) -> float:
    return float(text.replace(",", ""))


def _km(value: str, unit: str) -> float:
    unit = unit.lower()
    meters = unit in ("米", "m", "meter", "meters", "metre", "metres")
    return _num(value) / 1000 if meters else _num(value)


def json_body(text: str) -> tuple[str, int]:
    """The JSON part of a response (inside a code fence when there is one, also one left open
    by an answer cut off before its end) and its offset."""
    m = _FENCE.search(text)
    if m:
        return m.group(1), m.start(1)
    m = _OPEN_FENCE.match(text)
    if m:
        return text[m.end() :], m.end()
    return text, 0


def strict_json(text: str) -> tuple[object | None, str | None]:
    """(document, None) when the response is exactly one JSON document (fence allowed)."""
    m = _FENCE.search(text)
    if m and (text[: m.start()].strip() or text[m.end() :].strip()):
        return None, "text outside the JSON code fence"
    body = m.group(1) if m else text
    try:
        return json.loads(body), None
    except json.JSONDecodeError as exc:
        return None, f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"


def json_recommendations(doc: object) -> list | None:
    """The recommendation list of a JSON document: its `recommendations` list, else the only
    list of objects it holds (`items`, `results`, ...), else the document when it is a list."""
    if isinstance(doc, list):
        return doc
    if not isinstance(doc, dict):
        return None
    if isinstance(doc.get("recommendations"), list):
        return doc["recommendations"]
    lists = [
        v for v in doc.values() if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)
    ]
    return lists[0] if len(lists) == 1 else None


def looks_like_json(text: str) -> bool:
    body, _ = json_body(text)
    return body.lstrip().startswith(("{", "["))


def _match_title(text: str, evidence: list[EvidenceItem]) -> tuple[EvidenceItem, str] | None:
    """The retrieved item whose name (title, or its other-language form) occurs first in `text`,
    the longest one at that place; with the name as matched."""
    low = text.casefold()
    best, best_key = None, None
    for ev in evidence:
        for name in ev.names:
            t = name.casefold()
            at = low.find(t) if t else -1
            if at >= 0 and (best_key is None or (at, -len(t)) < best_key):
                best, best_key = (ev, name), (at, -len(t))
    return best


def _by_name(name: str, evidence: list[EvidenceItem]) -> EvidenceItem | None:
    return next((ev for ev in evidence if ev.is_named(name)), None)


def _sharing(name: str, evidence: list[EvidenceItem]) -> list[str]:
    """Ids of the retrieved items answering to `name` (branches of a chain share names), those
    whose title it is first."""
    key = name.strip().casefold()
    named = [e for e in evidence if e.is_named(name)]
    named.sort(key=lambda e: e.title.strip().casefold() != key)
    return [e.item_id for e in named]


def _label_patterns(evidence: list[EvidenceItem]) -> tuple[tuple[str, re.Pattern], ...]:
    keys = dict.fromkeys(list(LIST_FIELD_LABELS) + [k for ev in evidence for k in ev.claim_lists])
    return _compiled_label_patterns(tuple(keys))


@lru_cache(maxsize=1024)  # a domain's items have a handful of list attributes
def _compiled_label_patterns(keys: tuple[str, ...]) -> tuple[tuple[str, re.Pattern], ...]:
    out = []
    for key in keys:
        labels = {key, key.replace("_", " ")}
        labels.update(LIST_FIELD_LABELS.get(key, {}).values())
        alt = "|".join(re.escape(lab) for lab in sorted(labels, key=len, reverse=True))
        out.append((key, re.compile(rf"(?:{alt})\s*(?:[:：]|有|include[s]?)\s*", re.IGNORECASE)))
    return tuple(out)


def _blank(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


def _text_claims(line: str, offset: int, masked: str, labels) -> list[Claim]:
    """Claims in one text line; `masked` is the line with the item name blanked out. Labelled
    values (lists, category) are read first and blanked, so "24h hot water" among the amenities
    is not read as opening hours, nor "2kg" as a distance."""
    claims: list[Claim] = []
    for key, rx in labels:
        m = rx.search(masked)
        if not m:
            continue
        rest = line[m.end() :]
        stop = _LIST_END.search(rest)
        value = rest[: stop.start() if stop else len(rest)].strip()
        if value:
            parts = [p.strip() for p in _LIST_SPLIT.split(value) if p.strip()]
            s = m.end() + rest.find(value)
            claims.append(Claim(key, value, parts, (offset + s, offset + s + len(value))))
            masked = _blank(masked, s, s + len(value))
    m = CATEGORY.search(masked)
    if m:
        rest = line[m.end() :]
        stop = _VALUE_END.search(rest)
        value = rest[: stop.start() if stop else len(rest)].strip()
        if value:
            s = m.end() + rest.find(value)
            claims.append(Claim("category", value, value, (offset + s, offset + s + len(value))))
            masked = _blank(masked, s, s + len(value))
    m = PRICE.search(masked)
    if m:
        g = 1 if m.group(1) else 2
        claims.append(
            Claim("price", m.group(g), _num(m.group(g)), (offset + m.start(g), offset + m.end(g)))
        )
    m = RATING.search(masked)
    if m:
        g = 1 if m.group(1) else 2
        claims.append(
            Claim("rating", m.group(g), _num(m.group(g)), (offset + m.start(g), offset + m.end(g)))
        )
    m = DISTANCE.search(masked)
    if m:
        claims.append(
            Claim(
                "distance",
                m.group(0),
                _km(m.group(1), m.group(2)),
                (offset + m.start(), offset + m.end()),
            )
        )
    hours = list(HOURS.finditer(masked))
    if hours:
        start, end = hours[0].start(), hours[-1].end()
        ranges = tuple(r for h in hours for r in hours_ranges(h.group(0)))
        claims.append(
            Claim("opening_hours", masked[start:end], ranges, (offset + start, offset + end))
        )
    return claims


def _parse_text(text: str, evidence: list[EvidenceItem]) -> tuple[list[Recommendation], list[str]]:
    labels = _label_patterns(evidence)
    recs, prose = [], []
    last = 0
    for m in _ITEM_LINE.finditer(text):
        prose.append(text[last : m.start()])
        last = m.end()
        line, off = m.group(1), m.start(1)
        hit = _match_title(line, evidence)
        ev = hit[0] if hit else None
        if hit is not None:
            at = line.casefold().find(hit[1].casefold())
            name_span = (at, at + len(hit[1]))
        else:
            bracket = re.search(r"【([^】]+)】|\*\*([^*]+)\*\*", line)
            if bracket:
                g = 1 if bracket.group(1) else 2
                name_span = (bracket.start(g), bracket.end(g))
            else:
                stop = re.search(r"\s[—–-]\s|[:：（(，,;；|]|\.\s", line)
                name_span = (0, stop.start() if stop else len(line))
        name = line[name_span[0] : name_span[1]].strip()
        same = _sharing(hit[1], evidence) if hit else []
        masked = line[: name_span[0]] + " " * (name_span[1] - name_span[0]) + line[name_span[1] :]
        claims = _text_claims(line, off, masked, labels)
        recs.append(
            Recommendation(
                item_id=ev.item_id if ev else None,
                name=name,
                name_span=(off + name_span[0], off + name_span[1]),
                span=(m.start(), m.end()),
                claims=claims,
                candidates=same,
            )
        )
        # The free text of the line (its reason) is prose; claimed values are not.
        prose.append(masked)
    prose.append(text[last:])
    return recs, prose


def _json_value(raw: str) -> object:
    if raw[0] in "\"'":
        if raw[0] == '"' and "\\" in raw:  # without escapes JSON's reading is the bare text
            try:
                return json.loads(raw)
            except json.JSONDecodeError:
                return raw[1:-1]
        return raw[1:-1]
    if raw[0] == "[":
        return [a if a else b for a, b in _LIST_STRING.findall(raw)]
    if raw in ("null", "true", "false"):
        return {"null": None, "true": True, "false": False}[raw]
    return float(raw)


def _parse_json(text: str, evidence: list[EvidenceItem]) -> tuple[list[Recommendation], list[str]]:
    """Lenient: every brace-free object with a name or id is a recommendation."""
    body, base = json_body(text)
    by_id = {ev.item_id: ev for ev in evidence}
    list_keys = {k for ev in evidence for k in ev.claim_lists} | set(LIST_FIELD_LABELS)
    recs, prose = [], []
    for om in _OBJECT.finditer(body):
        pairs = {}
        for pm in _JSON_PAIR.finditer(om.group(0)):
            vs = base + om.start() + pm.start("val")
            raw = pm.group("val")
            pairs[pm.group("key")] = (_json_value(raw), raw, (vs, vs + len(raw)))
        if not ({"name", "title", "item_id", "id"} & set(pairs)):
            continue
        stated = pairs.get("item_id", pairs.get("id", (None,)))[0]
        stated = None if stated is None else str(stated)
        name_pair = pairs.get("name", pairs.get("title"))
        name = str(name_pair[0]) if name_pair and name_pair[0] is not None else ""
        ev = by_id.get(stated) if stated is not None else None
        same: list[str] = []
        if ev is None and stated is None and name:
            ev = _by_name(name, evidence)
            if ev is not None:
                same = _sharing(name, evidence)
        claims = []
        for key, (value, raw, span) in pairs.items():
            f = JSON_KEY_FIELDS.get(key)
            if f == "name" or value is None:
                continue
            if f in ("price", "rating"):
                v = value if isinstance(value, float) else _first_number(str(value), f)
                if v is not None:
                    claims.append(Claim(f, raw, v, span))
            elif f == "distance":
                if isinstance(value, float):
                    claims.append(Claim(f, raw, value, span))
                else:
                    dm = DISTANCE.search(str(value))
                    if dm:
                        claims.append(Claim(f, raw, _km(dm.group(1), dm.group(2)), span))
            elif f == "opening_hours":
                claims.append(Claim(f, raw, hours_ranges(str(value)), span))
            elif f == "category":
                claims.append(Claim(f, raw, str(value), span))
            elif key in list_keys and isinstance(value, list):
                claims.append(Claim(key, raw, [str(v) for v in value], span))
        name_span = name_pair[2] if name_pair else (base + om.start(), base + om.start())
        recs.append(
            Recommendation(
                item_id=ev.item_id if ev else None,
                name=name,
                name_span=name_span,
                span=(base + om.start(), base + om.end()),
                stated_item_id=stated,
                keys={k: v[0] for k, v in pairs.items()},
                claims=claims,
                candidates=same,
            )
        )
    for pm in _JSON_PAIR.finditer(body):
        if pm.group("key") in PROSE_KEYS:
            value = _json_value(pm.group("val"))
            if isinstance(value, str):
                prose.append(value)
    if not recs and not prose:
        prose.append(body)
    return recs, prose


def _first_number(text: str, f: str) -> float | None:
    rx = PRICE if f == "price" else RATING
    m = rx.search(text)
    if m:
        return _num(next(g for g in m.groups() if g))
    m = re.search(NUM, text)
    return _num(m.group(1)) if m else None


def _strip_evidence(text: str, evidence: list[EvidenceItem]) -> str:
    for ev in evidence:
        for s in ev.strings:
            if len(s) > 1:
                text = text.replace(s, " ")
    return text


def response_shape(text: str) -> tuple[str, bool, str | None]:
    """(format "json" | "text", strict JSON with a recommendation list?, why not): the parse's
    format, json_valid and json_error without reading the recommendations."""
    if not looks_like_json(text):
        return "text", False, "not JSON"
    doc, error = strict_json(text)
    valid = error is None and json_recommendations(doc) is not None
    if error is None and not valid:
        error = "JSON holds no list of recommendations"
    return "json", bool(valid), error


def parse_response(text: str, evidence: list[EvidenceItem]) -> ParsedResponse:
    fmt, valid, error = response_shape(text)
    if fmt == "json":
        recs, prose = _parse_json(text, evidence)
    else:
        recs, prose = _parse_text(text, evidence)
    return ParsedResponse(
        text=text,
        format=fmt,
        json_valid=valid,
        json_error=error,
        recommendations=recs,
        prose_source=partial(_strip_evidence, "\n".join(prose), evidence),
    )
