"""The code location follows Dagster's conventions: kinds on every asset, the standard table
metadata (`dagster/table_name`, `dagster/column_schema` from the schema code) on every asset that
writes a table, and descriptions that survive Markdown rendering (the UI renders them)."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest
from dagster import TableSchema
from markdown_it import MarkdownIt

from assets.table_metadata import COLUMN_SCHEMA, TABLE_NAME, column_schema
from pipelines.definitions import ALL_ASSETS, ALL_CHECKS
from schemas.entries import DIMENSIONS, entry_schema

# Assets that do not write one table: the release folder (five configs of shards) and the
# evaluation scorer registry (a data version per name).
NOT_TABLES = {"release", "evaluation/scorer"}


def _specs():
    for a in ALL_ASSETS:
        if hasattr(a, "specs"):
            yield from a.specs


def _descriptions():
    for spec in _specs():
        yield spec.key.to_user_string(), spec.description
    for a in ALL_ASSETS:
        if not hasattr(a, "specs"):
            yield a.key.to_user_string(), a.description
    for checks in ALL_CHECKS:
        for spec in checks.check_specs:
            yield f"{spec.asset_key.to_user_string()}:{spec.name}", spec.description


def test_every_asset_has_a_kind_badge():
    for spec in _specs():
        assert spec.kinds, f"{spec.key.to_user_string()} has no kind"
        assert spec.kinds <= {"duckdb", "parquet", "openai", "great_expectations"}
    sources = [a for a in ALL_ASSETS if not hasattr(a, "specs")]
    for source in sources:
        assert any(t.startswith("dagster/kind/") for t in source.tags), source.key


def test_every_table_asset_declares_its_table_and_columns():
    tables = {}
    for spec in _specs():
        key = spec.key.to_user_string()
        if key in NOT_TABLES:
            continue
        assert isinstance(spec.metadata.get(COLUMN_SCHEMA), TableSchema), key
        assert spec.metadata[COLUMN_SCHEMA].columns, key
        if key != "evaluation/result":  # a file per scorer name: named at materialization
            assert spec.metadata[TABLE_NAME].startswith("warehouse.main."), key
            tables[key] = spec.metadata
    # The entry tables show exactly the release schema (schemas/entries.py) of their dimension.
    for dim in DIMENSIONS:
        for step in ("entries", "judged", "benchmark"):
            assert tables[f"{dim}/{step}"][COLUMN_SCHEMA] == column_schema(entry_schema(dim))
    # Nested types are spelled out, so the Columns section says what a struct holds.
    columns = {c.name: c for c in tables["instruction_following/benchmark"][COLUMN_SCHEMA].columns}
    assert columns["provenance"].type.startswith("struct<user_id_hash: string")
    assert columns["entry_id"].constraints.nullable is False


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data):
        self.parts.append(data)


def rendered_text(markdown: str) -> str:
    parser = _Text()
    parser.feed(MarkdownIt("commonmark").render(markdown))
    return html.unescape("".join(parser.parts))


def _words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z0-9_<>./-]+", text)


@pytest.mark.parametrize(("key", "description"), list(_descriptions()))
def test_descriptions_survive_markdown_rendering(key, description):
    assert description, f"{key} has no description"
    text = rendered_text(description)
    for word in _words(description.replace("`", "").replace("*", "")):
        assert word in text, f"{key}: {word!r} is swallowed when the UI renders {description!r}"


def test_the_renderer_check_catches_an_html_like_placeholder():
    # The defect the UI showed: "releases/<version>/" rendered as "releases//".
    assert "<version>" not in rendered_text("under releases/<version>/, atomically")
    assert "<version>" in rendered_text("under `releases/<version>/`, atomically")
