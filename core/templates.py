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

Templates are versioned artifacts (docs/extending.md, "Templates"):
- each folder of templates has a lock, `templates.lock.json`, with the sha256 of every
  `<id>.v<version>` it holds; a template whose file no longer matches its locked sha256 (edited
  in place) or that is not locked is an error naming the file. A changed prompt is a new version:
  copy the file to `<id>.v<n+1>.md`, edit it, then `python -m core.templates lock <file>`.
- the version a build uses is pinned: the `template_versions` setting (recrm.toml
  `[recrm] template_versions = {item_ranking = 2}`, RECRM_TEMPLATE_VERSIONS as JSON) over the
  pins dimensions declare and `core.defaults`; a new, higher version file never takes over by
  itself. A template with one version file and no pin uses that one.
- every entry's provenance names the template (`template_id` = `<id>.v<version>`) and its
  sha256 (`template_hash`); the manifest lists them (`templates`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections.abc import Iterable
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


LOCK_FILE = "templates.lock.json"
LOCK_COMMAND = "python -m core.templates lock"


def template_dirs() -> list[Path]:
    """Folders templates are found in: the project's, then those of the registered dimensions
    (a dimension package ships its own templates and lock)."""
    from schemas.dimensions import template_dirs as dimension_template_dirs

    dirs = [TEMPLATES_DIR]
    for folder in dimension_template_dirs():
        if folder not in dirs:
            dirs.append(folder)
    return dirs


def read_lock(folder: Path) -> dict[str, str]:
    """`<id>.v<version>` -> sha256 of the folder's lock ({} when it has none)."""
    path = Path(folder) / LOCK_FILE
    if not path.is_file():
        return {}
    try:
        lock = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise TemplateError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(lock, dict):
        raise TemplateError(f"{path}: a lock maps `<id>.v<version>` to a sha256")
    return {str(k): str(v) for k, v in lock.items()}


def _versions(name: str) -> list[Path]:
    """Every `<name>.v<n>.md` of the first folder that has the name, lowest version first."""
    for folder in template_dirs():
        found = sorted(folder.glob(f"{name}.v*.md"), key=lambda p: int(p.stem.rsplit(".v", 1)[1]))
        if found:
            return found
    return []


def pinned_version(name: str) -> int:
    """The version of template `name` a build uses: the `template_versions` setting, else the
    pin of the dimension that declares it, else core.defaults; unpinned, its only version."""
    from core.defaults import DEFAULTS
    from core.settings import load_settings
    from schemas.dimensions import template_pins

    configured = load_settings().template_versions
    for pins in (configured, template_pins(), DEFAULTS["template_versions"]):
        if name in pins:
            return int(pins[name])
    found = _versions(name)
    if not found:
        raise TemplateError(
            f"no template named {name!r} in " + ", ".join(str(d) for d in template_dirs())
        )
    if len(found) > 1:
        raise TemplateError(
            f"template {name!r} has {len(found)} versions ({', '.join(p.name for p in found)}) and "
            f"none is pinned: set template_versions = {{{name} = <version>}} in recrm.toml"
        )
    return int(found[0].stem.rsplit(".v", 1)[1])


def load_template(name: str, version: int | None = None) -> PromptTemplate:
    """Template `name` at `version` (None: the pinned version, `pinned_version`), checked
    against its folder's lock."""
    return _load(name, pinned_version(name) if version is None else int(version))


@cache
def _load(name: str, version: int) -> PromptTemplate:
    path = next(
        (
            d / f"{name}.v{version}.md"
            for d in template_dirs()
            if (d / f"{name}.v{version}.md").is_file()
        ),
        None,
    )
    if path is None:
        if not _versions(name):
            raise TemplateError(
                f"no template named {name!r} in " + ", ".join(str(d) for d in template_dirs())
            )
        raise TemplateError(
            f"template {name!r} has no version {version} (pinned; files: "
            + ", ".join(p.name for p in _versions(name))
            + ")"
        )
    template = parse_template(path)
    check_locked(template)
    return template


load_template.cache_clear = _load.cache_clear  # tests that write templates reload them


def parse_template(path: Path) -> PromptTemplate:
    raw = path.read_text(encoding="utf-8")
    if not raw.startswith("---\n"):
        raise TemplateError(f"{path}: a template starts with YAML front matter")
    _, header, body = raw.split("---\n", 2)
    meta = yaml.safe_load(header) or {}
    for key in ("id", "version", "answer"):
        if key not in meta:
            raise TemplateError(f"{path}: front matter lacks {key!r}")
    template = PromptTemplate(
        id=str(meta["id"]),
        version=int(meta["version"]),
        body=body.strip("\n") + "\n",
        answer=str(meta["answer"]),
        sha256=hashlib.sha256(raw.encode("utf-8")).hexdigest(),
        path=path,
    )
    if path.name != f"{template.ref}.md":
        raise TemplateError(
            f"{path}: its front matter says {template.ref}; the file must be named {template.ref}.md"
        )
    return template


def check_locked(template: PromptTemplate) -> None:
    """Raise TemplateError unless `template`'s file is in its folder's lock with this sha256."""
    lock_path = template.path.parent / LOCK_FILE
    locked = read_lock(template.path.parent).get(template.ref)
    if locked is None:
        raise TemplateError(
            f"{template.path}: template {template.ref} is not in {lock_path}; lock it with "
            f"`{LOCK_COMMAND} {template.path}`"
        )
    if locked != template.sha256:
        raise TemplateError(
            f"{template.path}: template {template.ref} changed without a new version (its sha256 "
            f"is {template.sha256[:12]}…, {lock_path.name} has {locked[:12]}…). A released "
            f"template never changes: restore it (git checkout -- {template.path.name}), put the "
            f"change in {template.id}.v{template.version + 1}.md, `{LOCK_COMMAND}` that file and "
            f"pin the version in template_versions"
        )


def lock_templates(paths: Iterable[Path]) -> dict[str, str]:
    """Add each template file to its folder's lock; refs already locked must match (a locked
    template is never re-locked with other content). Returns the refs added."""
    added: dict[str, str] = {}
    for path in paths:
        template = parse_template(Path(path))
        folder = template.path.parent
        lock = read_lock(folder)
        if template.ref in lock:
            if lock[template.ref] != template.sha256:
                check_locked(template)  # raises with the remedy
            continue
        lock[template.ref] = template.sha256
        text = json.dumps(dict(sorted(lock.items())), indent=2) + "\n"
        (folder / LOCK_FILE).write_text(text, encoding="utf-8")
        added[template.ref] = template.sha256
    return added


def check_all(folders: Iterable[Path] | None = None) -> list[str]:
    """Problems of every template file in `folders` (default: every template folder)."""
    problems = []
    for folder in folders or template_dirs():
        for path in sorted(Path(folder).glob("*.v*.md")):
            try:
                check_locked(parse_template(path))
            except TemplateError as exc:
                problems.append(str(exc))
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m core.templates",
        description="Lock new template versions, or check every template against its lock.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    lock = sub.add_parser("lock", help="add new template files (<id>.v<n>.md) to their lock")
    lock.add_argument("files", nargs="+", type=Path)
    sub.add_parser("check", help="check every template file against its folder's lock")
    args = parser.parse_args(argv)
    try:
        if args.command == "lock":
            added = lock_templates(args.files)
            for ref, sha in added.items():
                print(f"locked {ref} {sha}")
            if not added:
                print("nothing new to lock")
            return 0
        problems = check_all()
    except TemplateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if not problems:
        print("every template matches its lock")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
