"""An independent detector of personal data, for what leaves the pipeline (a release, an LLM
request body).

Independent of the masking (`core.anonymize`) on purpose: a check that re-ran the masking
patterns would pass exactly the forms the masking misses. Here
- phone numbers are found by Google's libphonenumber (`phonenumbers.PhoneNumberMatcher`, numbers
  valid for their region: mainland China, and any number written with its `+` country code; US
  numbers too), after Unicode NFKC folding (full-width digits, `＋`, `＠`);
- bank cards by issuer prefix and the Luhn checksum over every run of 13-19 digits (spaces or
  dashes between);
- resident ID numbers by their GB 11643 (ISO 7064 MOD 11-2) check character and birth date;
- IP addresses by the standard library's `ipaddress` parser over address-like tokens;
- e-mail addresses by splitting at `@` and checking the parts (local part, dotted domain, TLD).

`find_personal_data(text)` returns the findings; `scan_texts` runs it over many values, keeping
only those with enough digits or an `@` for the (slower) matchers.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import phonenumbers

_REGIONS = ("CN", "US")
_MIN_PHONE_DIGITS = 7
# A run of digits (single spaces or dashes between) not glued to letters: `4111 1111 ...`, not
# the digits inside a hex id such as `0e4111111111111111bd`.
_DIGIT_RUN = re.compile(r"(?<![0-9A-Za-z])\d(?:[ \-]?\d)+(?![0-9A-WYZa-wyz])")
# Where a phone number could be: 7+ digits with separators a phone may hold. Only these windows
# go to libphonenumber's matcher (which is slow on long prompts and decides on its own).
# Digits glued to letters (`fd-i0000230`, hex ids) are ids, not phones.
_PHONE_WINDOW = re.compile(r"(?<![A-Za-z0-9_])[+(]?\d[\d \-.()/]{5,24}\d(?![A-Za-z0-9_])")
# Address-shaped tokens (the `ipaddress` parser decides): dotted quads, and hex groups with at
# least two colons (a clock time has one).
_ADDRESS_TOKEN = re.compile(
    r"(?<![0-9A-Za-z.:])(?:\d{1,3}(?:\.\d{1,3}){3}"
    r"|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?::\d{1,3}(?:\.\d{1,3}){3})?)(?![0-9A-Za-z.:])"
)
_ANY_DIGIT = re.compile(r"\d")
_DECIMAL = re.compile(r"\d{1,6}\.\d+")
_EMAIL_LOCAL = re.compile(r"[A-Za-z0-9._%+\-]+$")
_EMAIL_DOMAIN = re.compile(r"^[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


@dataclass(frozen=True)
class Finding:
    kind: str  # PHONE | CARD | ID | IP | EMAIL
    start: int
    end: int

    def masked_context(self, text: str, width: int = 30) -> str:
        """The finding's surroundings with the value itself replaced: safe to log."""
        a, b = max(0, self.start - width), min(len(text), self.end + width)
        return f"{text[a : self.start]}[{self.kind}]{text[self.end : b]}"


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card_prefix(digits: str) -> bool:
    """Issuer prefixes of payment cards: 3 (Amex, JCB, Diners), 4 (Visa), 5 (Mastercard),
    6 (UnionPay, Discover), 2221-2720 (Mastercard). Order numbers starting `2026...` are not."""
    return digits[0] in "3456" or (len(digits) == 16 and 2221 <= int(digits[:4]) <= 2720)


def _id_number_valid(value: str) -> bool:
    if len(value) != 18 or not value[:17].isdigit():
        return False
    month, day = int(value[10:12]), int(value[12:14])
    if not (1 <= month <= 12 and 1 <= day <= 31 and value[6:8] in ("19", "20")):
        return False
    total = sum(int(c) * w for c, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17].upper()


def _digit_runs(text: str) -> list[Finding]:
    found = []
    for m in _DIGIT_RUN.finditer(text):
        run = m.group()
        digits = "".join(c for c in run if c.isdigit())
        end = m.end()
        # An ID number may end with X.
        if len(digits) == 17 and end < len(text) and text[end] in "Xx":
            if _id_number_valid(digits + "X"):
                found.append(Finding("ID", m.start(), end + 1))
            continue
        if len(digits) == 18 and _id_number_valid(digits):
            found.append(Finding("ID", m.start(), end))
        elif 13 <= len(digits) <= 19 and _card_prefix(digits) and _luhn(digits):
            found.append(Finding("CARD", m.start(), end))
    return found


# Calendar dates and clock times are not phone numbers (libphonenumber would read
# `2026-03-14 18` as one): they are blanked, same length, before looking for phone windows.
_DATE_TIME = re.compile(
    r"(?<!\d)(?:19|20)\d{2}[-/.](?:0?[1-9]|1[0-2])[-/.](?:0?[1-9]|[12]\d|3[01])"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?!\d)|(?<!\d)\d{1,2}:\d{2}(?::\d{2})?(?!\d)"
)


def _mixed_separators(raw: str) -> bool:
    """A phone number is written with one kind of separator between its digit groups, besides
    spaces and the parentheses around an area code: `139 1234 5678`, `139-1234-5678`,
    `+1 (415) 555-0199`. Digits joined by several kinds (`9.7 2018 / 2017`, a product's size and
    model years) are not one number."""
    separators = {c for c in raw if not c.isdigit()} - {" ", "(", ")", "+"}
    return len(separators) > 1


def _local_only(raw: str) -> bool:
    """Fewer than 10 digits: a local number without its area code (`310 8797`), which reaches no
    one by itself and is how 7-8 digit ids (`item 3108797`) read to libphonenumber. Mobile numbers
    (11 digits in China, 10 in North America) and landlines with their area code are longer."""
    return sum(c.isdigit() for c in raw) < 10


def _phones(text: str) -> list[Finding]:
    found: dict[tuple[int, int], Finding] = {}
    text = _DATE_TIME.sub(lambda m: " " * len(m.group()), text)
    for window in _PHONE_WINDOW.finditer(text):
        if len(_ANY_DIGIT.findall(window.group())) < _MIN_PHONE_DIGITS:
            continue
        if _DECIMAL.fullmatch(window.group()):
            continue  # a coordinate or an amount, `121.5002`
        a, b = max(0, window.start() - 8), min(len(text), window.end() + 2)
        piece = text[a:b]
        for region in _REGIONS:
            for match in phonenumbers.PhoneNumberMatcher(piece, region):
                if _mixed_separators(match.raw_string) or _local_only(match.raw_string):
                    continue
                span = (a + match.start, a + match.end)
                found.setdefault(span, Finding("PHONE", *span))
    return list(found.values())


def _ips(text: str) -> list[Finding]:
    found = []
    for m in _ADDRESS_TOKEN.finditer(text):
        token = m.group()
        if not any(c.isdigit() for c in token):
            continue
        try:
            ipaddress.ip_address(token)
        except ValueError:
            continue
        found.append(Finding("IP", m.start(), m.end()))
    return found


def _emails(text: str) -> list[Finding]:
    found = []
    pos = text.find("@")
    while pos >= 0:
        local = _EMAIL_LOCAL.search(text[max(0, pos - 64) : pos])
        domain = _EMAIL_DOMAIN.match(text[pos + 1 : pos + 256])
        if local and domain:
            found.append(Finding("EMAIL", pos - len(local.group()), pos + 1 + domain.end()))
        pos = text.find("@", pos + 1)
    return found


def normalize(text: str) -> str:
    """NFKC: full-width and other compatibility forms as their plain twins (same length for the
    characters that matter here, so positions stay meaningful for logs)."""
    return unicodedata.normalize("NFKC", text)


def find_personal_data(text: str | None) -> list[Finding]:
    """Every personal value found in `text` (positions in the NFKC-normalized text)."""
    if not text:
        return []
    text = normalize(text)
    digits = len(_ANY_DIGIT.findall(text))
    findings: list[Finding] = []
    if "@" in text:
        findings += _emails(text)
    if digits >= _MIN_PHONE_DIGITS:
        findings += _digit_runs(text) + _phones(text)
    if digits >= 2 and (text.count(".") >= 3 or "::" in text or text.count(":") >= 7):
        findings += _ips(text)
    return sorted(findings, key=lambda f: (f.start, f.kind))


def kinds(text: str | None) -> list[str]:
    return sorted({f.kind for f in find_personal_data(text)})


@dataclass(frozen=True)
class Hit:
    index: int  # position of the value in the scanned sequence
    kinds: tuple[str, ...]
    context: str  # where it sits, the value masked


def scan_texts(values: Iterable[str | None]) -> list[Hit]:
    """The values holding personal data, with where (masked context)."""
    hits = []
    for i, value in enumerate(values):
        findings = find_personal_data(value)
        if findings:
            normalized = normalize(value or "")
            hits.append(
                Hit(
                    i,
                    tuple(sorted({f.kind for f in findings})),
                    findings[0].masked_context(normalized),
                )
            )
    return hits
