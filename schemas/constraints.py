"""The vocabulary of agent-instruction constraints and of response claims about items.

An agent's system instruction carries format and operational constraints. Hard constraints can be
checked by a rule (the instruction-following verifier does so); soft ones (`tone`,
`answer_relevance`) are parsed and recorded but left to the LLM judge. Every constraint has a typed
form here, one JSON form (`{"type": ..., "params": {...}}`, as in the optional `constraints` column
of `agent_turns` and the `constraints` entry column) and natural-language phrasings in Chinese and
English (`describe`), which the log generator uses and the instruction parser must understand.

Claims are the facts a response states about a retrieved item; `CLAIM_FIELDS` names them.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from dataclasses import fields as dc_fields
from functools import cache, cached_property, lru_cache
from typing import ClassVar

HARD_TYPES = (
    "json_format",
    "item_count",
    "max_length",
    "language",
    "forbidden_content",
    "max_price",
    "max_distance_km",
    "must_mention",
)
SOFT_TYPES = ("tone", "answer_relevance")
CONSTRAINT_TYPES = HARD_TYPES + SOFT_TYPES
LANGS = ("zh", "en")
TONE_STYLES = ("friendly", "professional", "concise")

# Facts a response can state about an item. `distance` is km from the request's position;
# list attributes (dishes, amenities, ...) come from the item's `attributes` JSON.
SCALAR_CLAIM_FIELDS = ("name", "price", "rating", "distance", "opening_hours", "category")
LIST_CLAIM_FIELDS = ("dishes", "amenities")
CLAIM_FIELDS = SCALAR_CLAIM_FIELDS + LIST_CLAIM_FIELDS
# List attributes that are machine flags, not facts a response states (e.g. "features": on_sale).
NON_CLAIM_LIST_KEYS = ("features",)
# How responses label the list attributes, per language (other attribute keys use the key).
LIST_FIELD_LABELS = {
    "dishes": {"zh": "招牌菜", "en": "signature dishes"},
    "amenities": {"zh": "设施", "en": "amenities"},
}


class ConstraintError(ValueError):
    pass


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dc_fields(cls))


@dataclass(frozen=True)
class Constraint:
    type: ClassVar[str]
    hard: ClassVar[bool] = True

    def params(self) -> dict:
        out = {}
        for name in _field_names(type(self)):
            value = getattr(self, name)
            out[name] = list(value) if isinstance(value, tuple) else value
        return out

    def to_json_obj(self) -> dict:
        return {"type": self.type, "params": self.params()}

    def to_record(self) -> dict:
        """The entry-column form: params as canonical JSON text."""
        return {"type": self.type, "params": self._params_json}

    @cached_property  # parsed constraints are shared by many turns; the constraint never changes
    def _params_json(self) -> str:
        return json.dumps(self.params(), ensure_ascii=False, sort_keys=True)

    def describe(self, lang: str, variant: int = 0) -> str:
        phrasings = _PHRASINGS[self.type][_check_lang(lang)]
        return phrasings[variant % len(phrasings)](self)


@dataclass(frozen=True)
class JsonFormat(Constraint):
    """Answer with a JSON object whose `recommendations` entries carry `fields`."""

    type: ClassVar[str] = "json_format"
    fields: tuple[str, ...]


_LAST_OBJECT_END = re.compile(r"\}(?=\s*\])")


def cut_off_json(text: str, body_start: int, body_end: int, draw: float) -> str | None:
    """`text` cut off inside its JSON body (`text[body_start:body_end]`), as an answer stopped
    by a token limit is: at a point between the end of its last recommendation object (the last
    `}` before a `]`) and the body's last character (`draw` in [0, 1) picks it), the rest of the
    text (a closing fence) gone with it. Every recommendation stays whole, with every fact it
    states, and the cut writes no character the answer did not hold: broken JSON without a
    recurring broken-JSON string. None when the body has no list of objects to keep."""
    body = text[body_start:body_end]
    ends = list(_LAST_OBJECT_END.finditer(body))
    last = len(body.rstrip()) - 1
    if not ends or ends[-1].end() > last:
        return None
    start = ends[-1].end()
    at = start + min(last - start, int(draw * (last - start + 1)))
    return text[: body_start + at]


@dataclass(frozen=True)
class ItemCount(Constraint):
    type: ClassVar[str] = "item_count"
    mode: str  # "exactly" | "at_most"
    n: int


@dataclass(frozen=True)
class MaxLength(Constraint):
    type: ClassVar[str] = "max_length"
    chars: int


@dataclass(frozen=True)
class Language(Constraint):
    type: ClassVar[str] = "language"
    lang: str


@dataclass(frozen=True)
class ForbiddenContent(Constraint):
    type: ClassVar[str] = "forbidden_content"
    words: tuple[str, ...]


@dataclass(frozen=True)
class MaxPrice(Constraint):
    type: ClassVar[str] = "max_price"
    amount: float


@dataclass(frozen=True)
class MaxDistanceKm(Constraint):
    type: ClassVar[str] = "max_distance_km"
    km: float


@dataclass(frozen=True)
class MustMention(Constraint):
    """Items (by name or id) the response must recommend."""

    type: ClassVar[str] = "must_mention"
    items: tuple[str, ...]


@dataclass(frozen=True)
class Tone(Constraint):
    type: ClassVar[str] = "tone"
    hard: ClassVar[bool] = False
    style: str


@dataclass(frozen=True)
class AnswerRelevance(Constraint):
    type: ClassVar[str] = "answer_relevance"
    hard: ClassVar[bool] = False


CONSTRAINT_CLASSES: dict[str, type[Constraint]] = {
    c.type: c
    for c in (
        JsonFormat,
        ItemCount,
        MaxLength,
        Language,
        ForbiddenContent,
        MaxPrice,
        MaxDistanceKm,
        MustMention,
        Tone,
        AnswerRelevance,
    )
}
TYPE_ORDER = {t: i for i, t in enumerate(CONSTRAINT_TYPES)}


def _check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ConstraintError(f"language must be one of {LANGS}, got {lang!r}")
    return lang


def make_constraint(ctype: str, params: dict | None) -> Constraint:
    """A typed constraint from its JSON form; raises ConstraintError naming what is wrong."""
    if ctype not in CONSTRAINT_CLASSES:
        raise ConstraintError(
            f"unknown constraint type {ctype!r}; known: {', '.join(CONSTRAINT_TYPES)}"
        )
    params = dict(params or {})
    try:
        if ctype == "json_format":
            fields = tuple(str(f) for f in params["fields"])
            if not fields:
                raise ConstraintError("json_format needs at least one field")
            return JsonFormat(fields=fields)
        if ctype == "item_count":
            mode, n = str(params["mode"]), int(params["n"])
            if mode not in ("exactly", "at_most") or n < 1:
                raise ConstraintError(f"item_count needs mode exactly|at_most and n >= 1: {params}")
            return ItemCount(mode=mode, n=n)
        if ctype == "max_length":
            chars = int(params["chars"])
            if chars < 1:
                raise ConstraintError(f"max_length needs chars >= 1: {params}")
            return MaxLength(chars=chars)
        if ctype == "language":
            return Language(lang=_check_lang(str(params["lang"])))
        if ctype == "forbidden_content":
            words = tuple(str(w) for w in params["words"] if str(w).strip())
            if not words:
                raise ConstraintError("forbidden_content needs at least one word")
            return ForbiddenContent(words=words)
        if ctype == "max_price":
            amount = float(params["amount"])
            if not math.isfinite(amount) or amount <= 0:
                raise ConstraintError(f"max_price needs a positive amount: {params}")
            return MaxPrice(amount=amount)
        if ctype == "max_distance_km":
            km = float(params["km"])
            if not math.isfinite(km) or km <= 0:
                raise ConstraintError(f"max_distance_km needs a positive km: {params}")
            return MaxDistanceKm(km=km)
        if ctype == "must_mention":
            items = tuple(str(i) for i in params["items"] if str(i).strip())
            if not items:
                raise ConstraintError("must_mention needs at least one item")
            return MustMention(items=items)
        if ctype == "tone":
            return Tone(style=str(params["style"]))
        return AnswerRelevance()
    except KeyError as exc:
        raise ConstraintError(f"{ctype} lacks parameter {exc.args[0]!r}: {params}") from None
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ConstraintError):
            raise
        raise ConstraintError(f"{ctype} has a bad parameter ({exc}): {params}") from None


def sort_constraints(constraints: list[Constraint]) -> list[Constraint]:
    return sorted(constraints, key=lambda c: TYPE_ORDER[c.type])  # stable: ties keep input order


def constraints_to_json(constraints: list[Constraint]) -> str:
    """The `constraints` column text of `agent_turns`."""
    return json.dumps([c.to_json_obj() for c in sort_constraints(constraints)], ensure_ascii=False)


def constraints_from_json(text: str) -> list[Constraint]:
    """Parse the `constraints` column: a JSON list of {type, params}."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConstraintError(f"constraints is not valid JSON: {exc}") from None
    if not isinstance(data, list):
        raise ConstraintError("constraints must be a JSON list of {type, params}")
    out = []
    for i, obj in enumerate(data):
        if not isinstance(obj, dict) or "type" not in obj:
            raise ConstraintError(f"constraints[{i}] is not an object with a 'type'")
        params = obj.get("params") or {}
        if isinstance(params, str):
            params = json.loads(params)
        out.append(make_constraint(str(obj["type"]), params))
    return sort_constraints(out)


# -- natural-language phrasings --------------------------------------------------------------------
_ZH_NUM = "零一二三四五六七八九十"


def zh_number(n: int) -> str:
    """Chinese numeral for 1..19 (used in some phrasings)."""
    if n <= 10:
        return "两" if n == 2 else _ZH_NUM[n]
    return "十" + _ZH_NUM[n - 10]


def fmt_amount(x: float) -> str:
    """38.0 -> '38', 38.5 -> '38.5', 38.25 -> '38.25'."""
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return text or "0"


def _km_or_m(km: float, lang: str, meters: bool) -> str:
    if meters:
        return f"{round(km * 1000)}米" if lang == "zh" else f"{round(km * 1000)} m"
    return f"{fmt_amount(km)}公里" if lang == "zh" else f"{fmt_amount(km)} km"


def _uses_meters(c: MaxDistanceKm) -> bool:
    m = c.km * 1000
    return c.km < 1 and abs(m - round(m)) < 1e-6


_TONE_ZH = {"friendly": "亲切友好", "professional": "专业严谨", "concise": "简洁明了"}

_PHRASINGS: dict[str, dict[str, list]] = {
    "json_format": {
        "en": [
            lambda c: (
                'Reply with JSON only: an object with a "recommendations" list whose entries '
                f"have the fields {', '.join(c.fields)}."
            ),
            lambda c: (
                f"Output must be valid JSON; every recommendation needs the fields: {', '.join(c.fields)}."
            ),
        ],
        "zh": [
            lambda c: (
                f'仅输出JSON：一个包含"recommendations"列表的对象，每条推荐须包含字段：{"、".join(c.fields)}。'
            ),
            lambda c: f"以JSON格式返回结果，每个推荐项必须有以下字段：{', '.join(c.fields)}。",
        ],
    },
    "item_count": {
        "en": [
            lambda c: (
                f"Recommend exactly {c.n} items."
                if c.mode == "exactly"
                else f"Recommend at most {c.n} items."
            ),
            lambda c: (
                f"Suggest exactly {c.n} options."
                if c.mode == "exactly"
                else f"Recommend no more than {c.n} options."
            ),
        ],
        "zh": [
            lambda c: f"请恰好推荐{c.n}个。" if c.mode == "exactly" else f"最多推荐{c.n}个。",
            lambda c: (
                f"推荐数量必须是{zh_number(c.n)}家。"
                if c.mode == "exactly"
                else f"推荐不超过{zh_number(c.n)}家。"
            ),
        ],
    },
    "max_length": {
        "en": [
            lambda c: f"Keep the answer within {c.chars} characters.",
            lambda c: f"The response must not exceed {c.chars} characters.",
        ],
        "zh": [
            lambda c: f"回答不超过{c.chars}字。",
            lambda c: f"回复长度不得超过{c.chars}个字符。",
        ],
    },
    "language": {
        "en": [
            lambda c: f"Answer in {'English' if c.lang == 'en' else 'Chinese'}.",
            lambda c: f"Respond only in {'English' if c.lang == 'en' else 'Chinese'}.",
        ],
        "zh": [
            lambda c: f"请用{'中文' if c.lang == 'zh' else '英文'}回答。",
            lambda c: f"回复语言：{'中文' if c.lang == 'zh' else '英文'}。",
        ],
    },
    "forbidden_content": {
        "en": [
            lambda c: f"Do not use these words: {', '.join(c.words)}.",
            lambda c: "Never mention " + " or ".join(f'"{w}"' for w in c.words) + ".",
        ],
        "zh": [
            lambda c: f"回答中不得出现以下词语：{'、'.join(c.words)}。",
            lambda c: "禁止使用" + "".join(f"“{w}”" for w in c.words) + "等词。",
        ],
    },
    "max_price": {
        "en": [
            lambda c: f"Only recommend items priced at most ¥{fmt_amount(c.amount)}.",
            lambda c: f"Every recommendation must cost no more than {fmt_amount(c.amount)} yuan.",
        ],
        "zh": [
            lambda c: f"只推荐价格不超过{fmt_amount(c.amount)}元的选项。",
            lambda c: f"预算上限为¥{fmt_amount(c.amount)}，不要推荐超出预算的商品。",
        ],
    },
    "max_distance_km": {
        "en": [
            lambda c: (
                f"Only recommend places within {_km_or_m(c.km, 'en', _uses_meters(c))} of the user."
            ),
            lambda c: (
                f"Everything you recommend must be at most {_km_or_m(c.km, 'en', False)} away."
            ),
        ],
        "zh": [
            lambda c: f"只推荐距离用户{_km_or_m(c.km, 'zh', _uses_meters(c))}以内的商家。",
            lambda c: f"距离不超过{_km_or_m(c.km, 'zh', False)}。",
        ],
    },
    "must_mention": {
        "en": [
            lambda c: "You must recommend " + " and ".join(f'"{i}"' for i in c.items) + ".",
            lambda c: (
                "Make sure "
                + " and ".join(f'"{i}"' for i in c.items)
                + " is among the recommendations."
            ),
        ],
        "zh": [
            lambda c: "必须推荐" + "".join(f"「{i}」" for i in c.items) + "。",
            lambda c: "推荐中须包含" + "".join(f"“{i}”" for i in c.items) + "。",
        ],
    },
    "tone": {
        "en": [lambda c: f"Use a {c.style} tone.", lambda c: f"Keep your tone {c.style}."],
        "zh": [
            lambda c: f"语气要{_TONE_ZH.get(c.style, c.style)}。",
            lambda c: f"请保持{_TONE_ZH.get(c.style, c.style)}的语气。",
        ],
    },
    "answer_relevance": {
        "en": [
            lambda c: "Stay on topic and answer the user's request directly.",
            lambda c: "Only say things that are relevant to the user's request.",
        ],
        "zh": [
            lambda c: "回答须紧扣用户的需求，不要答非所问。",
            lambda c: "回复内容要切题。",
        ],
    },
}
TONE_ZH_LABELS = dict(_TONE_ZH)


# -- normal forms of item facts, shared by the log generator and the claim checker ----------------
_HOURS_RANGE = re.compile(
    r"(\d{1,2})\s*[:：]\s*(\d{2})\s*(?:-|–|—|~|～|至|到|to)\s*(\d{1,2})\s*[:：]\s*(\d{2})"
)
_ALL_DAY = re.compile(r"24\s*(?:小时|h\b|hours?\b|/7)|全天|around the clock", re.IGNORECASE)


def hours_ranges(text: str | None) -> tuple[str, ...]:
    """Opening hours as normalized 'HH:MM-HH:MM' ranges, in order; () when none is stated."""
    if not text:
        return ()
    return _cached_hours_ranges(text) if isinstance(text, str) else _hours_ranges(text)


# Items and responses state the same few opening hours over and over.
@lru_cache(maxsize=1 << 12)
def _cached_hours_ranges(text: str) -> tuple[str, ...]:
    return _hours_ranges(text)


def _hours_ranges(text: str) -> tuple[str, ...]:
    found = [f"{int(a):02d}:{b}-{int(c):02d}:{d}" for a, b, c, d in _HOURS_RANGE.findall(text)]
    if not found and _ALL_DAY.search(text):
        found = ["00:00-24:00"]
    return tuple(dict.fromkeys(found))


def list_attributes(attributes: str | dict | None) -> dict[str, list[str]]:
    """The list-of-strings attributes of an item (dishes, amenities, ...), from its JSON text."""
    if attributes is None or attributes == "":
        return {}
    if isinstance(attributes, str):
        try:
            attributes = json.loads(attributes)
        except json.JSONDecodeError:
            return {}
    if not isinstance(attributes, dict):
        return {}
    out = {}
    for key, value in attributes.items():
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            out[str(key)] = [v.strip() for v in value if v.strip()]
    return out


EARTH_RADIUS_KM = 6371.0088


# Attribute keys holding an item's name in another language ("title_en", "name_zh", ...).
NAME_KEY = re.compile(r"(?:title|name)_[a-z]{2}(?:_[a-z]{2})?")


def name_aliases(attributes: str | dict | None) -> list[str]:
    """The item's names in other languages, from its attributes (JSON text or parsed)."""
    if isinstance(attributes, str):
        try:
            attributes = json.loads(attributes)
        except json.JSONDecodeError:
            return []
    if not isinstance(attributes, dict):
        return []
    return [
        v.strip()
        for k, v in sorted((k, v) for k, v in attributes.items() if isinstance(v, str))
        if str(k).startswith(("title_", "name_")) and v.strip() and NAME_KEY.fullmatch(str(k))
    ]


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))
