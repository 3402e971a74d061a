"""GX Data Docs of stored validation results, built by GX's public API and readable offline.

The result JSON files the checks and `recrm validate --expectations` store (see
`assets.checks.results`) go into a file-backed GX context: each suite into its suites store, each
result into its validation results store under a run identifier (run name, time of the build),
then `context.build_data_docs()` renders the site: an index of runs and suites, one page per
validation result and per suite.

- `add_run_to_site(validation root, run_id)`: the warehouse's site, `<warehouse folder>/
  validation/docs/`, grows by one run at a time (the CLI adds each run it launched, failed runs
  included); the checks' metadata link its index.
- `build_data_docs(results, out_dir, run_name)`: a new site of one folder of results
  (`recrm validate --data-docs`).

GX's page templates load Bootstrap, jQuery, bootstrap-table and Font Awesome from CDNs; offline
such pages are unstyled and the index (a script-filled table) is empty. The site here uses GX's
renderers with a few of its templates replaced (`data_docs_templates/`): styles and scripts are
the site's own copies under `static/vendor/` (from the xstatic packages, installed with the
project), and index tables are plain HTML.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from pathlib import Path

from jinja2 import ChoiceLoader, FileSystemLoader

from assets.checks.results import site_index

SITE_NAME = "recrm"
TEMPLATES = Path(__file__).with_name("data_docs_templates")
STATIC_PLACEHOLDER = "__RECRM_STATIC__"
SITE_PARTS = ("index.html", "validations", "expectations", "static")  # what GX writes
GX_WEB_ASSETS = "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/"


def _load_templates_first(view) -> None:
    view.env.loader = ChoiceLoader([FileSystemLoader(str(TEMPLATES)), view.env.loader])


def _views():
    from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView

    class OfflinePageView(DefaultJinjaPageView):
        def __init__(self, custom_styles_directory=None, custom_views_directory=None):
            super().__init__(custom_styles_directory, custom_views_directory)
            _load_templates_first(self)

    class OfflineIndexPageView(DefaultJinjaIndexPageView):
        def __init__(self, custom_styles_directory=None, custom_views_directory=None):
            super().__init__(custom_styles_directory, custom_views_directory)
            _load_templates_first(self)

    return OfflinePageView, OfflineIndexPageView


def __getattr__(name: str):
    # GX instantiates views from (module_name, class_name); the classes subclass GX's views, so
    # they are made on first use (importing GX when the code location loads costs seconds).
    if name in ("OfflinePageView", "OfflineIndexPageView"):
        page, index = _views()
        globals().update(OfflinePageView=page, OfflineIndexPageView=index)
        return globals()[name]
    raise AttributeError(name)


_VIEW = {"module_name": __name__, "class_name": "OfflinePageView"}


def site_config(out_dir: Path) -> dict:
    return {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str(out_dir.resolve()),
        },
        "site_index_builder": {
            "class_name": "DefaultSiteIndexBuilder",
            "view": {"module_name": __name__, "class_name": "OfflineIndexPageView"},
        },
        "site_section_builders": {
            "expectations": {"class_name": "DefaultSiteSectionBuilder", "view": _VIEW},
            "validations": {"class_name": "DefaultSiteSectionBuilder", "view": _VIEW},
            "profiling": "None",
        },
    }


def _vendor_files() -> dict[str, Path]:
    """site-relative path under static/vendor/ -> file shipped by an xstatic package."""
    from xstatic.pkg import bootstrap, font_awesome, jquery

    b, fa, jq = Path(bootstrap.BASE_DIR), Path(font_awesome.BASE_DIR), Path(jquery.BASE_DIR)
    files = {
        "bootstrap/css/bootstrap.min.css": b / "css" / "bootstrap.min.css",
        "bootstrap/js/bootstrap.bundle.min.js": b / "js" / "bootstrap.bundle.min.js",
        "jquery/jquery.min.js": jq / "jquery.min.js",
        "fontawesome/css/all.min.css": fa / "css" / "all.min.css",
    }
    for font in sorted((fa / "webfonts").iterdir()):
        files[f"fontawesome/webfonts/{font.name}"] = font
    return files


def _copy_vendor(site: Path) -> None:
    for rel, src in _vendor_files().items():
        dest = site / "static" / "vendor" / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)


def _resolve_static(site: Path) -> None:
    """Point each page's `__RECRM_STATIC__` at the site's static/ folder, relative to the page."""
    static = site / "static"
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        rel = Path(os.path.relpath(static, page.parent)).as_posix()
        text = text.replace(STATIC_PLACEHOLDER, rel)
        # The default styles' dark-mode logo is an image on GX's web server: use the local one.
        text = text.replace(GX_WEB_ASSETS + "full_logo_dark.png", f"{rel}/images/logo-long.png")
        page.write_text(text, encoding="utf-8")


def _suite_of(result):
    from great_expectations.core import ExpectationSuite

    return ExpectationSuite(
        name=result.suite_name,
        expectations=[r.expectation_config.to_domain_obj() for r in result.results],
    )


def _add_results(context, files: list[Path], run_id) -> list:
    """Store each result file (and its suite, once) in the context; returns the keys to render."""
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResultSchema,
    )
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    schema = ExpectationSuiteValidationResultSchema()
    keys = []
    for path in files:
        result = schema.load(json.loads(path.read_text(encoding="utf-8")))
        result.meta["run_id"] = run_id
        suite_key = ExpectationSuiteIdentifier(name=result.suite_name)
        if _add_suite(context, result):
            keys.append(suite_key)
        key = ValidationResultIdentifier(
            expectation_suite_identifier=suite_key, run_id=run_id, batch_identifier=path.stem
        )
        context.validation_results_store.set(key, result)
        keys.append(key)
    return keys


def _result_files(results: Path) -> list[Path]:
    files = sorted(results.glob("*.json"))
    if not files:
        raise FileNotFoundError(f"no validation results (*.json) in {results}")
    return files


def _run_id(run_name: str):
    from great_expectations.core.run_identifier import RunIdentifier

    return RunIdentifier(run_name=run_name, run_time=dt.datetime.now(dt.UTC))


def _finish(site: Path) -> Path:
    _copy_vendor(site)
    _resolve_static(site)
    return site / "index.html"


def build_data_docs(results: str | Path, out_dir: str | Path, run_name: str | None = None) -> Path:
    """A new Data Docs site in `out_dir` of every GX result JSON in `results`; returns its
    index.html. `run_name` names the run in the index (default: the folder name). A site already
    in `out_dir` is replaced; other files there (e.g. the results themselves) are kept."""
    import great_expectations as gx

    results, out_dir = Path(results), Path(out_dir)
    files = _result_files(results)
    for part in SITE_PARTS:
        target = out_dir / part
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    with tempfile.TemporaryDirectory(prefix="recrm-gx-") as project:
        context = gx.get_context(mode="file", project_root_dir=project)
        context.add_data_docs_site(SITE_NAME, site_config(out_dir))
        _add_results(context, files, _run_id(run_name or results.name))
        context.build_data_docs(site_names=[SITE_NAME])
    return _finish(out_dir)


def add_run_to_site(validation_root: str | Path, run_id: str) -> Path | None:
    """Add one run's results (`<validation root>/<run_id>/*.json`) to the warehouse's Data Docs
    site (`<validation root>/docs/`, its GX project in `<validation root>/gx/`): the run's
    pages are rendered and the index lists every run so far. None when the run stored no
    results (it ran no check)."""
    import great_expectations as gx

    root = Path(validation_root)
    results = root / run_id
    if not results.is_dir() or not any(results.glob("*.json")):
        return None
    site = site_index(root).parent
    context = gx.get_context(mode="file", project_root_dir=str(root / "gx"))
    if SITE_NAME not in context.list_data_docs_sites():
        context.add_data_docs_site(SITE_NAME, site_config(site))
    keys = _add_results(context, _result_files(results), _run_id(run_id))
    context.build_data_docs(site_names=[SITE_NAME], resource_identifiers=keys)
    return _finish(site)


def _add_suite(context, result) -> bool:
    """Add the result's suite to the context unless it is there; True when added."""
    from great_expectations.exceptions import DataContextError

    try:
        context.suites.get(result.suite_name)
        return False
    except DataContextError:
        context.suites.add(_suite_of(result))
        return True
