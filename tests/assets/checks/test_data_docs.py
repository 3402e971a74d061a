"""The Data Docs site: built by GX's own build_data_docs from stored results, readable offline
(every style and script is a local file), with a run index and suite pages, and no broken link."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import great_expectations as gx
import pandas as pd

from assets.checks.data_docs import add_run_to_site, build_data_docs
from assets.checks.results import site_index, store_outcome
from assets.checks.validation import validate_frame


class _Refs(HTMLParser):
    """Every href/src of a page, with the tag and rel it came from."""

    def __init__(self):
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("href", "src"):
            if attrs.get(name):
                self.refs.append((tag, attrs.get("rel") or "", attrs[name]))


def site_problems(site: Path) -> list[str]:
    """Broken local links, and styles/scripts/images that would load from the network."""
    problems = []
    pages = sorted(site.rglob("*.html"))
    assert pages, f"no pages under {site}"
    for page in pages:
        text = page.read_text(encoding="utf-8")
        parser = _Refs()
        parser.feed(text)
        for tag, rel, ref in parser.refs:
            parts = urlsplit(ref)
            if parts.scheme in ("http", "https"):
                if tag != "a":  # a stylesheet, script, icon or image from the network
                    problems.append(f"{page.relative_to(site)}: <{tag} {rel}> loads {ref}")
                continue
            if parts.scheme or not parts.path:
                continue  # mailto:, javascript:, or a fragment of the same page
            target = (page.parent / unquote(parts.path)).resolve()
            if not target.exists():
                problems.append(f"{page.relative_to(site)}: {ref} does not resolve")
        for url in re.findall(r"url\(['\"]?(https?://[^'\")]+)", text):
            problems.append(f"{page.relative_to(site)}: style loads {url}")
    return problems


def _results(folder: Path, ok: bool) -> Path:
    """Two suites' results stored as the checks store them (real GX validations)."""
    E = gx.expectations
    frame = pd.DataFrame({"entry_id": ["a", "b", "c"], "label": [0, 1, 1 if ok else 7]})
    labels = gx.ExpectationSuite(
        name="benchmark_demo.labels",
        expectations=[E.ExpectColumnValuesToBeInSet(column="label", value_set=[0, 1])],
    )
    ids = gx.ExpectationSuite(
        name="benchmark_demo.ids",
        expectations=[E.ExpectColumnValuesToBeUnique(column="entry_id")],
    )
    store_outcome(folder, "demo.labels", validate_frame(frame, labels, ["entry_id"]))
    store_outcome(folder, "demo.ids", validate_frame(frame, ids, ["entry_id"]))
    return folder


def test_warehouse_site_indexes_every_run_and_works_offline(tmp_path):
    root = tmp_path / "validation"
    _results(root / "run-one", ok=False)
    _results(root / "run-two", ok=True)
    assert add_run_to_site(root, "run-one") == site_index(root)
    assert add_run_to_site(root, "run-two") == site_index(root)
    assert add_run_to_site(root, "run-never") is None  # a run that checked nothing

    site = site_index(root).parent
    assert site_problems(site) == []
    index = site_index(root).read_text(encoding="utf-8")
    # The run index: both runs, each result page linked from it.
    assert "run-one" in index and "run-two" in index
    pages = sorted(p.relative_to(site).as_posix() for p in (site / "validations").rglob("*.html"))
    assert len(pages) == 4
    assert all(page in index for page in pages)
    # Suite pages, linked from the index and from each result page.
    suites = sorted((site / "expectations").rglob("*.html"))
    assert {p.stem for p in suites} == {"labels", "ids"}
    assert all(p.relative_to(site).as_posix() in index for p in suites)
    # A result page names its run and shows what failed.
    (failed,) = [p for p in (site / "validations").rglob("demo.labels.html") if "run-one" in str(p)]
    text = failed.read_text(encoding="utf-8")
    assert "run-one" in text and "__none__" not in text
    assert "7" in text  # the unexpected value
    # Styles and scripts are the site's own files.
    for rel in ("vendor/bootstrap/css/bootstrap.min.css", "vendor/jquery/jquery.min.js"):
        assert (site / "static" / rel).stat().st_size > 10_000


def test_single_folder_site_keeps_other_files(tmp_path):
    out = tmp_path / "docs"
    results = _results(out / "results", ok=True)
    index = build_data_docs(results, out, run_name="release-x")
    assert index == out / "index.html"
    assert len(list(results.glob("*.json"))) == 2  # the results beside the site survive
    assert site_problems(out) == []
    assert "release-x" in index.read_text(encoding="utf-8")
    # A second build replaces the site, not the results.
    build_data_docs(results, out, run_name="release-y")
    text = (out / "index.html").read_text(encoding="utf-8")
    assert "release-y" in text and "release-x" not in text


def test_the_link_checker_catches_cdn_styles_and_broken_links(tmp_path):
    (tmp_path / "index.html").write_text(
        '<link rel="stylesheet" href="https://cdn.example/b.css">'
        '<a href="missing.html">x</a><a href="https://example.org">ok</a>'
    )
    problems = site_problems(tmp_path)
    assert len(problems) == 2
    assert "loads https://cdn.example/b.css" in problems[0]
    assert "missing.html does not resolve" in problems[1]
