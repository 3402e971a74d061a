"""Prompt templates: versioned files in `schemas/templates/`, rendered column-wise.

A template file is YAML front matter followed by the prompt body:

    ---
    id: behavior_prediction
    version: 1
    answer: "<answer>{{label}}</answer>"
    ---
    You are ... {{history_text}} ...

Placeholders are `{{column}}`; rendering a frame concatenates literal parts and columns with one
polars expression, so a million prompts render without a Python loop. Columns that hold lists or
structs are turned into text by the dimension before rendering.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import polars as pl
import yaml

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "schemas" / "templates"
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


class TemplateError(ValueError):
    pass


@dataclass(frozen=True)
class PromptTemplate:
    id: str
    version: int
    body: str
    answer: str
    sha256: str  # of the whole file: any edit changes it
    path: Path

    @property
    def ref(self) -> str:
        """`<id>.v<version>`, the name recorded in provenance."""
        return f"{self.id}.v{self.version}"

    @property
    def fields(self) -> list[str]:
        return sorted(set(_PLACEHOLDER.findall(self.body)) | set(_PLACEHOLDER.findall(self.answer)))

    def render_prompt(self, frame: pl.DataFrame) -> pl.Series:
        return frame.select(_render_expr(self.body, frame).alias("prompt")).to_series()

    def render_answer(self, frame: pl.DataFrame) -> pl.Series:
        return frame.select(_render_expr(self.answer, frame).alias("answer")).to_series()

    def render_one(self, **values: object) -> str:
        """Render a single prompt from keyword values (used by LLM judges)."""
        return self.render_prompt(pl.DataFrame({k: [v] for k, v in values.items()}))[0]


def _render_expr(text: str, frame: pl.DataFrame) -> pl.Expr:
    parts: list[pl.Expr] = []
    pos = 0
    for match in _PLACEHOLDER.finditer(text):
        if match.start() > pos:
            parts.append(pl.lit(text[pos : match.start()]))
        name = match.group(1)
        if name not in frame.columns:
            raise TemplateError(f"template needs column {name!r}, frame has {frame.columns}")
        parts.append(pl.col(name).cast(pl.String).fill_null(""))
        pos = match.end()
    if pos < len(text):
        parts.append(pl.lit(text[pos:]))
    if not parts:
        return pl.lit("")
    return pl.concat_str(parts)


@cache
def load_template(name: str, version: int | None = None) -> PromptTemplate:
    """Load `schemas/templates/<name>.v<version>.md`; the highest version when none is given."""
    if version is None:
        candidates = sorted(
            TEMPLATES_DIR.glob(f"{name}.v*.md"), key=lambda p: int(p.stem.rsplit(".v", 1)[1])
        )
        if not candidates:
            raise TemplateError(f"no template named {name!r} in {TEMPLATES_DIR}")
        path = candidates[-1]
    else:
        path = TEMPLATES_DIR / f"{name}.v{version}.md"
    raw = path.read_text(encoding="utf-8")
    if not raw.startswith("---\n"):
        raise TemplateError(f"{path}: a template starts with YAML front matter")
    _, header, body = raw.split("---\n", 2)
    meta = yaml.safe_load(header) or {}
    for key in ("id", "version", "answer"):
        if key not in meta:
            raise TemplateError(f"{path}: front matter lacks {key!r}")
    return PromptTemplate(
        id=str(meta["id"]),
        version=int(meta["version"]),
        body=body.strip("\n") + "\n",
        answer=str(meta["answer"]),
        sha256=hashlib.sha256(raw.encode("utf-8")).hexdigest(),
        path=path,
    )
