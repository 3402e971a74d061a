"""A versioned prompt template rendered inside DuckDB: the same template file, placeholders and
rules as `core.templates` (a `{{column}}` becomes the column as text, null as the empty string),
compiled to one SQL `concat(...)` expression, so the large dimensions render and write their
entries in a single set-based statement without moving the text through Python. Tests check
that it renders byte-identically to `PromptTemplate.render_prompt` / `render_answer`."""

from __future__ import annotations

import re

from core.sql import sql_literal
from core.templates import PromptTemplate, TemplateError

# The placeholder syntax of core.templates.
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def render_sql(text: str, columns: set[str] | None = None, alias: str = "") -> str:
    """SQL expression rendering `text` with `{{column}}` taken from `alias.column`."""
    parts: list[str] = []
    pos = 0
    prefix = f"{alias}." if alias else ""
    for match in PLACEHOLDER.finditer(text):
        if match.start() > pos:
            parts.append(sql_literal(text[pos : match.start()]))
        name = match.group(1)
        if columns is not None and name not in columns:
            raise TemplateError(f"template needs column {name!r}, relation has {sorted(columns)}")
        parts.append(f"coalesce(CAST({prefix}\"{name}\" AS VARCHAR), '')")
        pos = match.end()
    if pos < len(text):
        parts.append(sql_literal(text[pos:]))
    if not parts:
        return "''"
    return "concat(" + ", ".join(parts) + ")"


def prompt_sql(template: PromptTemplate, columns: set[str] | None = None, alias: str = "") -> str:
    return render_sql(template.body, columns, alias)


def answer_sql(template: PromptTemplate, columns: set[str] | None = None, alias: str = "") -> str:
    return render_sql(template.answer, columns, alias)
