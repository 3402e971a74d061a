"""Personal data: the patterns we mask in free text, in one place.

The same patterns mask text on ingest (as DuckDB SQL, set-based), and are searched for by the
release's expectation suites (nothing matching may reach a release). They use RE2 syntax, which
both DuckDB and Python's `re` accept for these expressions. User ids are not masked here: they are
replaced by a keyed hash (`core.ids.sql_keyed_hash`).
"""

from __future__ import annotations

import re

# Order matters: an 18-digit ID number would otherwise be partly eaten by the phone patterns.
PII_PATTERNS: dict[str, str] = {
    "ID": r"\b[1-9]\d{16}[\dXx]\b",
    "EMAIL": r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}",
    "PHONE": (
        r"(?:\+?86[\- ]?)?\b1[3-9]\d{9}\b"  # mainland mobile
        r"|\b0\d{2,3}-\d{7,8}\b"  # mainland landline
        r"|\+\d{1,3}[\- ]\d{2,4}[\- ]\d{3,4}[\- ]\d{3,4}\b"  # international
        r"|\(?\b\d{3}\)?[\- .]\d{3}[\- .]\d{4}\b"  # North American
    ),
}

MASK_TOKENS = {name: f"[{name}]" for name in PII_PATTERNS}
# ASCII word boundaries, as in RE2: "电话13812345678" must match too.
_COMPILED = {name: re.compile(p, re.ASCII) for name, p in PII_PATTERNS.items()}
ANY_PII_PATTERN = "|".join(f"(?:{p})" for p in PII_PATTERNS.values())


def mask_text(text: str | None) -> str | None:
    """Python twin of `sql_mask_text`."""
    if text is None:
        return None
    for name, rx in _COMPILED.items():
        text = rx.sub(MASK_TOKENS[name], text)
    return text


def find_pii(text: str | None) -> list[str]:
    """The kinds of personal data found in `text` (empty when clean)."""
    if not text:
        return []
    return [name for name, rx in _COMPILED.items() if rx.search(text)]


def sql_mask_text(column: str) -> str:
    """DuckDB expression masking every pattern in a text column."""
    expr = column
    for name, pattern in PII_PATTERNS.items():
        escaped = pattern.replace("'", "''")
        expr = f"regexp_replace({expr}, '{escaped}', '{MASK_TOKENS[name]}', 'g')"
    return expr
