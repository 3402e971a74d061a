"""The prompt-template renderer, on template files written in a temporary folder."""

from __future__ import annotations

import polars as pl
import pytest

from core import templates
from core.templates import TemplateError, load_template


@pytest.fixture
def template_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(templates, "TEMPLATES_DIR", tmp_path)
    load_template.cache_clear()
    yield tmp_path
    load_template.cache_clear()


def _write(folder, name, version, body, answer="<a>{{label}}</a>"):
    text = f'---\nid: {name}\nversion: {version}\nanswer: "{answer}"\n---\n{body}'
    (folder / f"{name}.v{version}.md").write_text(text)


def test_render_columnwise_and_latest_version(template_dir):
    _write(template_dir, "t", 1, "old {{q}}\n")
    _write(template_dir, "t", 2, "Query: {{ q }} / {{n}}!\n")
    tpl = load_template("t")
    assert (tpl.ref, tpl.fields) == ("t.v2", ["label", "n", "q"])
    frame = pl.DataFrame({"q": ["a", None], "n": [1, 2], "label": ["yes", "no"]})
    assert tpl.render_prompt(frame).to_list() == ["Query: a / 1!\n", "Query:  / 2!\n"]
    assert tpl.render_answer(frame).to_list() == ["<a>yes</a>", "<a>no</a>"]
    assert tpl.render_one(q="z", n=3) == "Query: z / 3!\n"
    assert load_template("t", 1).ref == "t.v1"
    assert len(tpl.sha256) == 64 and tpl.sha256 != load_template("t", 1).sha256


def test_errors(template_dir):
    with pytest.raises(TemplateError, match="no template named 'nope'"):
        load_template("nope")
    _write(template_dir, "u", 1, "{{missing}}\n")
    with pytest.raises(TemplateError, match="needs column 'missing'"):
        load_template("u").render_prompt(pl.DataFrame({"x": [1]}))
    (template_dir / "v.v1.md").write_text("no front matter")
    with pytest.raises(TemplateError, match="starts with YAML front matter"):
        load_template("v")
    (template_dir / "w.v1.md").write_text("---\nid: w\nversion: 1\n---\nbody\n")
    with pytest.raises(TemplateError, match="lacks 'answer'"):
        load_template("w")


def test_repository_templates_load():
    load_template.cache_clear()
    for path in sorted(templates.TEMPLATES_DIR.glob("*.v*.md")):
        name, version = path.stem.rsplit(".v", 1)
        tpl = load_template(name, int(version))
        assert tpl.id == name and tpl.version == int(version)
