"""The prompt-template renderer and the template lock and pins, on template files written in a
temporary folder; and the repository's templates against their lock."""

from __future__ import annotations

import json

import polars as pl
import pytest

from core import templates
from core.defaults import DEFAULTS
from core.templates import LOCK_FILE, TemplateError, load_template, lock_templates, main


@pytest.fixture
def template_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(templates, "TEMPLATES_DIR", tmp_path)
    load_template.cache_clear()
    yield tmp_path
    load_template.cache_clear()


def _write(folder, name, version, body, answer="<a>{{label}}</a>", lock=True):
    text = f'---\nid: {name}\nversion: {version}\nanswer: "{answer}"\n---\n{body}'
    path = folder / f"{name}.v{version}.md"
    path.write_text(text)
    if lock:
        lock_templates([path])
    return path


def test_render_columnwise_and_pinned_version(template_dir, monkeypatch):
    _write(template_dir, "t", 1, "old {{q}}\n")
    _write(template_dir, "t", 2, "Query: {{ q }} / {{n}}!\n")
    monkeypatch.setenv("RECRM_TEMPLATE_VERSIONS", '{"t": 2}')
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
    load_template("u")  # one version, unpinned: that one
    with pytest.raises(TemplateError, match="needs column 'missing'"):
        load_template("u").render_prompt(pl.DataFrame({"x": [1]}))
    (template_dir / "v.v1.md").write_text("no front matter")
    with pytest.raises(TemplateError, match="starts with YAML front matter"):
        load_template("v")
    (template_dir / "w.v1.md").write_text("---\nid: w\nversion: 1\n---\nbody\n")
    with pytest.raises(TemplateError, match="lacks 'answer'"):
        load_template("w")


def test_repository_templates_load_and_match_their_lock(capsys):
    load_template.cache_clear()
    for path in sorted(templates.TEMPLATES_DIR.glob("*.v*.md")):
        name, version = path.stem.rsplit(".v", 1)
        tpl = load_template(name, int(version))
        assert tpl.id == name and tpl.version == int(version)
    assert main(["check"]) == 0, capsys.readouterr().err
    # every pinned version exists, and the build renders the pinned one, not the highest
    for name, version in DEFAULTS["template_versions"].items():
        assert load_template(name).ref == f"{name}.v{version}"


def test_a_template_edited_in_place_is_an_error_naming_the_file(template_dir):
    path = _write(template_dir, "t", 1, "Rate {{q}}\n")
    assert load_template("t").ref == "t.v1"
    path.write_text(path.read_text().replace("Rate", "Grade"))
    load_template.cache_clear()
    with pytest.raises(TemplateError, match=r"t\.v1\.md: template t\.v1 changed without a new"):
        load_template("t")
    # re-locking an edited version is refused too: a locked version never changes
    with pytest.raises(TemplateError, match="changed without a new version"):
        lock_templates([path])


def test_an_unlocked_template_is_an_error_and_the_lock_command_adds_it(template_dir, capsys):
    path = _write(template_dir, "t", 1, "Rate {{q}}\n", lock=False)
    with pytest.raises(TemplateError, match=r"not in .*templates\.lock\.json; lock it with"):
        load_template("t")
    assert main(["lock", str(path)]) == 0
    assert "locked t.v1" in capsys.readouterr().out
    load_template.cache_clear()
    assert load_template("t").sha256 == json.loads((template_dir / LOCK_FILE).read_text())["t.v1"]


def test_a_new_higher_version_does_not_silently_take_over(template_dir, monkeypatch):
    _write(template_dir, "t", 1, "one {{q}}\n")
    _write(template_dir, "t", 2, "two {{q}}\n")
    with pytest.raises(TemplateError, match="has 2 versions .* and none is pinned"):
        load_template("t")
    monkeypatch.setenv("RECRM_TEMPLATE_VERSIONS", '{"t": 1}')
    assert load_template("t").ref == "t.v1"
    # a built-in dimension's template keeps its default pin when a v-next file appears
    pinned = DEFAULTS["template_versions"]["query_item_relevance"]
    _write(template_dir, "query_item_relevance", pinned, "a {{q}}\n")
    _write(template_dir, "query_item_relevance", pinned + 1, "b {{q}}\n")
    assert load_template("query_item_relevance").version == pinned
    monkeypatch.setenv("RECRM_TEMPLATE_VERSIONS", f'{{"query_item_relevance": {pinned + 1}}}')
    assert load_template("query_item_relevance").version == pinned + 1


def test_a_file_named_for_another_version_is_refused(template_dir):
    path = _write(template_dir, "t", 1, "x {{q}}\n", lock=False)
    path.rename(template_dir / "t.v3.md")
    with pytest.raises(TemplateError, match="must be named t.v1.md"):
        load_template("t", 3)
