"""Personal data: the patterns ingest masks in free text, in one place.

The same patterns mask text on ingest (as DuckDB SQL, set-based) and in Python (`mask_text`, for
LLM outputs and reports). They use RE2 syntax, which both DuckDB and Python's `re` (ASCII mode)
accept for these expressions. The release is checked by an INDEPENDENT detector
(`core.pii_detect`: the `phonenumbers` library's matcher, Luhn, address parsers), never by these
patterns, so a form the masking misses is caught rather than waved through.

What is masked, in this order (each value becomes `[KIND]`):
- full-width digits and signs (`１３９`, `＋`, `＠`, `．`) are first folded to ASCII, so that a
  lookalike spelling is masked like the plain one;
- ID: mainland resident ID numbers (18 characters, also written 6-8-4 with spaces or dashes);
- EMAIL: addresses;
- IP: IPv4 and IPv6 addresses (full and `::`-compressed);
- PHONE: mainland mobiles with any single spaces, dashes or dots between digits, with or without
  `+86` / `0086` / `(+86)`; mainland landlines (`010-12345678`, `(0755) 1234 5678`); any `+`
  international number in groups; North American `(415) 555-0199`;
- CARD: 13-19 digit numbers (in groups or not) that pass the Luhn check.
User ids are not masked here: ingest replaces them by a keyed hash where they are fields, and by
`[USER]` where they appear in free text (`assets.ingest.personal_ids`).
"""

from __future__ import annotations

import re

FULL_WIDTH = "０１２３４５６７８９＋－（）＠．"
ASCII_TWINS = "0123456789+-()@."
_FOLD = str.maketrans(FULL_WIDTH, ASCII_TWINS)

_SEP = r"[ \-.]?"  # one optional separator between digit groups
_DATE = r"(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
_IPV4_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_H = r"[0-9A-Fa-f]{1,4}"

# Order matters: an 18-digit ID number would otherwise be partly eaten by the card or phone
# patterns, an IPv4 address by the phone patterns.
PII_PATTERNS: dict[str, str] = {
    "ID": (
        r"\b[1-9]\d{16}[\dXx]\b"  # contiguous
        rf"|\b[1-9]\d{{5}}[ \-]{_DATE}[ \-]\d{{3}}[\dXx]\b"  # 6-8-4 groups
    ),
    "EMAIL": r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}",
    "IP": (
        rf"\b(?:{_IPV4_OCTET}\.){{3}}{_IPV4_OCTET}\b"
        rf"|\b(?:{_H}:){{7}}{_H}\b"  # full IPv6
        rf"|\b(?:{_H}:){{1,6}}:(?:{_H}(?::{_H}){{0,5}})?"  # compressed, `::` inside or at the end
        rf"|::(?:ffff:)?(?:{_H}(?::{_H}){{0,6}}|(?:{_IPV4_OCTET}\.){{3}}{_IPV4_OCTET})\b"
    ),
    "PHONE": (
        rf"(?:(?:\+|\b00) ?86|\(\+?86\)){_SEP}1[3-9]\d(?:{_SEP}\d){{8}}\b"  # +86 mobile
        rf"|\b1[3-9]\d(?:{_SEP}\d){{8}}\b"  # mainland mobile
        r"|\(0\d{2,3}\) ?\d{3,4}[ \-.]?\d{4}\b"  # landline, area code in parentheses
        r"|\b0\d{2,3}[ \-.]?\d{3,4}[ \-.]?\d{4}\b"  # landline
        r"|\+\d{1,3}[ \-.]?\(?\d{1,4}\)?(?:[ \-.]?\d{2,4}){2,4}\b"  # international
        r"|\(?\b\d{3}\)?[\- .]\d{3}[\- .]\d{4}\b"  # North American
    ),
}
# Card candidates: Luhn decides (`luhn_valid`), so only checksummed numbers are masked.
CARD_CANDIDATE = r"\b\d(?:[ \-]?\d){12,18}\b"
KINDS = ("ID", "EMAIL", "IP", "PHONE", "CARD")
MASK_TOKENS = {name: f"[{name}]" for name in KINDS}
# ASCII word boundaries, as in RE2: "电话13812345678" must match too.
_COMPILED = {name: re.compile(p, re.ASCII) for name, p in PII_PATTERNS.items()}
_CARD_RX = re.compile(CARD_CANDIDATE, re.ASCII)
# Text matching any kind but cards (a regex cannot check Luhn; `find_pii` and the independent
# detector do), for the expectation suites.
ANY_PII_PATTERN = "|".join(f"(?:{p})" for p in PII_PATTERNS.values())


def luhn_valid(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()]
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def mask_text(text: str | None) -> str | None:
    """Python twin of `sql_mask_text`."""
    if text is None:
        return None
    text = text.translate(_FOLD)
    for name in KINDS:
        if name == "CARD":
            text = _CARD_RX.sub(lambda m: "[CARD]" if luhn_valid(m.group()) else m.group(), text)
        else:
            text = _COMPILED[name].sub(MASK_TOKENS[name], text)
    return text


def find_pii(text: str | None) -> list[str]:
    """The kinds of personal data the masking patterns find in `text` (empty when clean)."""
    if not text:
        return []
    folded = text.translate(_FOLD)
    found = []
    for name in KINDS:
        if name == "CARD":
            if any(luhn_valid(m.group()) for m in _CARD_RX.finditer(folded)):
                found.append(name)
        elif _COMPILED[name].search(folded):
            found.append(name)
    return found


def _sql_luhn(candidate: str) -> str:
    """SQL: the Luhn check of a candidate's digits (every second digit from the right doubled)."""
    digits = f"string_split(reverse(regexp_replace({candidate}, '[^0-9]', '', 'g')), '')"
    doubled = "CASE WHEN i % 2 = 0 THEN (CAST(d AS INTEGER) * 2) % 9 + (CASE WHEN d = '9' THEN 9 ELSE 0 END) ELSE CAST(d AS INTEGER) END"  # noqa: E501
    return f"(list_sum(list_transform({digits}, lambda d, i: {doubled})) % 10 = 0)"


def sql_mask_text(column: str) -> str:
    """DuckDB expression masking every kind in a text column."""
    src, dst = FULL_WIDTH.replace("'", "''"), ASCII_TWINS.replace("'", "''")
    expr = f"translate({column}, '{src}', '{dst}')"
    for name in KINDS:
        if name == "CARD":
            cards = (
                f"list_filter(regexp_extract_all({expr}, '{CARD_CANDIDATE}'), "
                f"lambda c: {_sql_luhn('c')})"
            )
            expr = (
                f"list_reduce(list_prepend({expr}, {cards}), "
                "lambda acc, c: replace(acc, c, '[CARD]'))"
            )
        else:
            escaped = PII_PATTERNS[name].replace("'", "''")
            expr = f"regexp_replace({expr}, '{escaped}', '{MASK_TOKENS[name]}', 'g')"
    return expr
