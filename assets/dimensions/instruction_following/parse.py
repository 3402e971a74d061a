"""Parse an agent's system instruction (Chinese or English) into typed constraints.

The instruction is the only record every log has of what the agent was told; the optional
`constraints` JSON column, when present, is cross-checked against the parse. The instruction is
cut into sentences (quoted names are protected first, so a title holding a full stop stays
whole), and each sentence is matched against the phrasings of each constraint type. Numbers may be
digits or Chinese numerals; prices may carry ¥, ￥, $, 元 or yuan; distances m or km.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache

from schemas.constraints import (
    TONE_STYLES,
    TONE_ZH_LABELS,
    AnswerRelevance,
    Constraint,
    ConstraintError,
    ForbiddenContent,
    ItemCount,
    JsonFormat,
    Language,
    MaxDistanceKm,
    MaxLength,
    MaxPrice,
    MustMention,
    Tone,
    constraints_from_json,
    sort_constraints,
)

_QUOTED = re.compile(r'"([^"\n]+)"|“([^”\n]+)”|「([^」\n]+)」|『([^』\n]+)』|‘([^’\n]+)’')
_PLACEHOLDER = re.compile(r"\x00(\d+)\x00")  # a quoted string hidden by `sentences`
_SENTENCE_END = re.compile(r"\n|。|(?<=[A-Za-z0-9)\"”])\.(?:\s|$)|(?<=[!?])\s+(?=[A-Z])")
_ZH_DIGITS = {
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_EN_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10,
}  # fmt: skip
NUMBER = r"(\d+|[零一二两三四五六七八九十]+|one|two|three|four|five|six|seven|eight|nine|ten)"
AMOUNT = r"(\d+(?:,\d{3})*(?:\.\d+)?)"

_JSON = re.compile(r"(?<![A-Za-z])json(?![A-Za-z])", re.IGNORECASE)
_JSON_FIELDS = re.compile(r"(?:fields?|字段|keys?|键)\s*[:：]?\s*(.+)$", re.IGNORECASE)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_COUNT_EN = re.compile(
    rf"\b(exactly|at most|no more than|up to|only|not more than|recommend|suggest|list|pick)\s+"
    rf"{NUMBER}\s+"
    r"(?:of\s+the\s+(?:[a-z-]+\s+)?)?(?:items?|options?|places?|recommendations?|restaurants?|hotels?|shops?|stores?|products?|"
    r"choices?|results?|suggestions?|venues?)\b",
    re.IGNORECASE,
)
_COUNT_ZH = re.compile(
    rf"(恰好|正好|刚好|只|仅|最多|至多|不超过|不多于|必须是|为)?\s*(?:推荐|给出|列出)?(?:数量)?"
    rf"(恰好|正好|刚好|只|仅|最多|至多|不超过|不多于|必须是|为)?\s*{NUMBER}\s*(?:个|家|项|条|款|间|部)"
)
_LENGTH_EN = re.compile(
    r"(?:within|at most|no more than|not exceed|under|maximum of|max(?:imum)?|fewer than|less than|"
    r"limit(?:ed)?(?:\s+\w+){0,3}\s+to|up to)"
    r"\s+(\d+)\s*(?:characters?|chars?)\b",
    re.IGNORECASE,
)
_LENGTH_ZH = re.compile(
    r"(?:不超过|不得超过|不要超过|控制在|以内|最多|至多)?\s*(\d+)\s*(?:个)?(?:字符|字)"
    r"|字数\s*(?:不超过|不得超过|不要超过|控制在|限制在|少于|在)?\s*(\d+)"
)
_LANG_EN = re.compile(
    r"\b(?:answer|respond|reply|write|response)\b[^.]*?\bin\s+(English|Chinese|Mandarin)\b"
    r"|\buse\s+(English|Chinese|Mandarin)\s+only\b|\bonly\s+use\s+(English|Chinese|Mandarin)\b",
    re.IGNORECASE,
)
_LANG_ZH = re.compile(r"(?:用|使用|以|语言\s*[:：为是]?\s*)(中文|汉语|英文|英语)")
_FORBID_EN = re.compile(
    r"\b(?:do not use|don't use|never (?:use|mention|say)|must not (?:contain|include|use|mention)|"
    r"avoid(?: using)?(?: the words?)?|do not mention|don't mention|forbidden words?)\b",
    re.IGNORECASE,
)
_FORBID_ZH = re.compile(
    r"不得出现|禁止使用|不要使用|不能出现|不得使用|禁止出现|禁用词|不要出现|不要提到|不得提及|不要提及|避免使用"
)
_PRICE_CUE = re.compile(
    r"price|cost|budget|spend|over|above|under|below|cheaper|more than|less than|"
    r"价格|预算|人均|花费|价位|售价|以内|以下|低于|不高于|超过",
    re.IGNORECASE,
)
_PRICE = re.compile(
    rf"(?:[¥￥$]|RMB|CNY)\s?{AMOUNT}|{AMOUNT}\s?(?:元|块|yuan\b|RMB\b|CNY\b|dollars?\b)",
    re.IGNORECASE,
)
_DIST_CUE = re.compile(r"within|away|distance|radius|near|距离|以内|范围|附近|之内", re.IGNORECASE)
_DIST = re.compile(
    r"(\d+(?:\.\d+)?)\s*(公里|千米|kilometers?|kilometres?|km|米|meters?|metres?|m)(?![A-Za-z])",
    re.IGNORECASE,
)
_MUST_EN = re.compile(
    r"\b(?:must (?:recommend|include|mention)|make sure|be sure to (?:recommend|include)|"
    r"always (?:recommend|include))\b",
    re.IGNORECASE,
)
_MUST_ZH = re.compile(r"必须推荐|须包含|必须包含|一定要推荐|务必推荐|需包含|务必包含|一定要包含")
_TONE_EN = re.compile(r"\btone\b", re.IGNORECASE)
_TONE_ZH = re.compile(r"语气|口吻")
_RELEVANCE = re.compile(
    r"on topic|relevant to the user|answer the user's (?:request|question) directly|紧扣|答非所问|切题",
    re.IGNORECASE,
)


class InstructionParseError(ValueError):
    pass


def _number(text: str) -> int:
    text = text.lower()
    if text.isdigit():
        return int(text)
    if text in _EN_NUMBERS:
        return _EN_NUMBERS[text]
    if text == "十":
        return 10
    if text.startswith("十"):
        return 10 + _ZH_DIGITS[text[1]]
    if "十" in text:
        tens, _, ones = text.partition("十")
        return _ZH_DIGITS[tens] * 10 + (_ZH_DIGITS[ones] if ones else 0)
    return _ZH_DIGITS[text]


def _amount(text: str) -> float:
    return float(text.replace(",", ""))


def sentences(instruction: str) -> list[tuple[str, list[str]]]:
    """(sentence with quotes replaced by placeholders, the quoted strings in order)."""
    quoted: list[str] = []

    def hide(m: re.Match) -> str:
        quoted.append(next(g for g in m.groups() if g is not None))
        return f"\x00{len(quoted) - 1}\x00"

    hidden = _QUOTED.sub(hide, instruction)
    out = []
    for part in _SENTENCE_END.split(hidden):
        if part and part.strip():
            ids = [int(i) for i in _PLACEHOLDER.findall(part)] if "\x00" in part else []
            out.append((part.strip(), [quoted[i] for i in ids]))
    return out


def _unquote(sentence: str, quotes: list[str]) -> str:
    for q in quotes:
        sentence = re.sub(r"\x00\d+\x00", lambda _m, q=q: q, sentence, count=1)
    return sentence


def _list_words(text: str) -> list[str]:
    parts = re.split(r"\s*(?:[,，、;；]|\bor\b|\band\b|或|和)\s*", text)
    return [p.strip(" .。:：\"'“”「」") for p in parts if p.strip(" .。:：\"'“”「」")]


def parse_sentence(sentence: str, quotes: list[str]) -> list[Constraint]:
    """The constraints one sentence states (usually zero or one)."""
    return list(_parse_sentence(sentence, tuple(quotes)))


# Instructions are built from a few thousand distinct sentences, each seen many times per domain.
@lru_cache(maxsize=1 << 16)
def _parse_sentence(sentence: str, quotes: tuple[str, ...]) -> tuple[Constraint, ...]:
    return tuple(_read_sentence(sentence, list(quotes)))


def _read_sentence(sentence: str, quotes: list[str]) -> list[Constraint]:
    bare = re.sub(r"\x00\d+\x00", " ", sentence)  # quoted names never carry numbers or cues
    out: list[Constraint] = []
    if _JSON.search(bare):
        m = _JSON_FIELDS.search(bare)
        fields = (
            [f for f in _IDENT.findall(m.group(1)) if f.lower() not in ("and", "or")] if m else []
        )
        if not fields:
            fields = [q for q in quotes if _IDENT.fullmatch(q) and q != "recommendations"]
        out.append(JsonFormat(tuple(dict.fromkeys(fields)) or ("name",)))
        return out
    if _FORBID_EN.search(bare) or _FORBID_ZH.search(bare):
        words = quotes
        if not words:
            m = re.search(r"[:：]\s*(.+)$", bare)
            words = _list_words(m.group(1)) if m else []
        if words:
            out.append(ForbiddenContent(tuple(words)))
        return out
    if (_MUST_EN.search(bare) or _MUST_ZH.search(bare)) and quotes:
        out.append(MustMention(tuple(quotes)))
        return out
    m = _COUNT_EN.search(bare)
    if m:
        word = m.group(1).lower()
        mode = (
            "at_most"
            if word in ("at most", "no more than", "up to", "only", "not more than")
            else "exactly"
        )
        out.append(ItemCount(mode, _number(m.group(2))))
    else:
        m = _COUNT_ZH.search(bare)
        if m and re.search(r"推荐|给出|列出|选项", bare):
            words = (m.group(1) or "") + (m.group(2) or "")
            mode = (
                "at_most"
                if re.search(r"最多|至多|不超过|不多于", words + bare[: m.start()])
                else "exactly"
            )
            out.append(ItemCount(mode, _number(m.group(3))))
    m = _LENGTH_EN.search(bare) or _LENGTH_ZH.search(bare)
    if m and (m.re is _LENGTH_EN or re.search(r"回答|回复|字数|长度|篇幅|内容", bare)):
        out.append(MaxLength(int(m.group(1) or m.group(2))))
    m = _LANG_EN.search(bare)
    if m:
        lang = next(g for g in m.groups() if g)
        out.append(Language("en" if lang.lower() == "english" else "zh"))
    else:
        m = _LANG_ZH.search(bare)
        if m and re.search(r"回答|回复|作答|输出|语言", bare):
            out.append(Language("zh" if m.group(1) in ("中文", "汉语") else "en"))
    if _PRICE_CUE.search(bare):
        m = _PRICE.search(bare)
        if m:
            out.append(MaxPrice(_amount(m.group(1) or m.group(2))))
    if _DIST_CUE.search(bare):
        m = _DIST.search(bare)
        if m:
            unit = m.group(2).lower()
            value = float(m.group(1))
            meters = unit in ("米", "m", "meter", "meters", "metre", "metres")
            out.append(MaxDistanceKm(round(value / 1000, 6) if meters else value))
    if _TONE_EN.search(bare) or _TONE_ZH.search(bare):
        style = next((s for s in TONE_STYLES if re.search(rf"\b{s}\b", bare, re.IGNORECASE)), None)
        if style is None:
            style = next((s for s, zh in TONE_ZH_LABELS.items() if zh in bare), None)
        if style is None:
            m = re.search(r"(?:use an?|keep (?:your|the) tone)\s+([a-z]+)", bare, re.IGNORECASE)
            style = m.group(1).lower() if m else "unspecified"
        out.append(Tone(style))
    if _RELEVANCE.search(bare):
        out.append(AnswerRelevance())
    return out


def parse_instruction(instruction: str) -> list[Constraint]:
    """Every constraint the instruction states, sorted by type; one per type (the last wins)."""
    if instruction is None:
        raise InstructionParseError("instruction is null")
    found: dict[str, Constraint] = {}
    for sentence, quotes in sentences(instruction):
        for c in _parse_sentence(sentence, tuple(quotes)):
            found[c.type] = c
    return sort_constraints(list(found.values()))


def _same(a: Constraint, b: Constraint) -> bool:
    pa, pb = a.params(), b.params()
    if a.type == "max_distance_km":
        return abs(pa["km"] - pb["km"]) < 1e-6
    if a.type == "max_price":
        return abs(pa["amount"] - pb["amount"]) < 1e-6
    if a.type in ("json_format", "forbidden_content", "must_mention"):
        key = {"json_format": "fields", "forbidden_content": "words", "must_mention": "items"}[
            a.type
        ]
        return sorted(x.casefold() for x in pa[key]) == sorted(x.casefold() for x in pb[key])
    return pa == pb


def cross_check(parsed: list[Constraint], constraints_json: str | None) -> list[str]:
    """Disagreements between the parsed instruction and the `constraints` column (empty when
    they agree or the column is absent): 'missing_in_instruction:<type>',
    'missing_in_json:<type>', 'params_differ:<type>', or 'bad_json:<reason>'."""
    if constraints_json is None or not constraints_json.strip():
        return []
    try:
        declared = constraints_from_json(constraints_json)
    except (ConstraintError, json.JSONDecodeError) as exc:
        return [f"bad_json:{exc}"]
    got = {c.type: c for c in parsed}
    want = {c.type: c for c in declared}
    issues = []
    for t in sorted(set(got) | set(want)):
        if t not in got:
            issues.append(f"missing_in_instruction:{t}")
        elif t not in want:
            issues.append(f"missing_in_json:{t}")
        elif not _same(got[t], want[t]):
            issues.append(f"params_differ:{t}")
    return issues
