"""Validation results kept with the run, and GX Data Docs rendered from them.

Each check writes its GX result JSON to `<warehouse folder>/validation/<run_id>/<name>.json`
(by default `data/validation/<run_id>/`), next to the run that produced it. `build_data_docs`
renders a folder of such results as static HTML with GX's own Data Docs renderers:

    .venv/bin/python -c "from assets.checks.results import build_data_docs as b; \
        b('data/validation/<run_id>', 'data/validation/<run_id>/docs')"

or `recrm validate RELEASE_DIR --data-docs OUT` for a published release's shards.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from assets.checks.validation import SuiteOutcome

VALIDATION_FOLDER = "validation"


def results_dir(warehouse_path: str | Path, run_id: str) -> Path:
    return Path(warehouse_path).parent / VALIDATION_FOLDER / run_id


def _file_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def store_outcome(directory: Path, name: str, outcome: SuiteOutcome) -> Path:
    """Write the GX result JSON of a suite run (one file per part); returns the first path."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for part, result in sorted(outcome.results.items()):
        path = directory / f"{_file_name(name + ('.' + part if part else ''))}.json"
        path.write_text(json.dumps(result, indent=2, sort_keys=True), encoding="utf-8")
        paths.append(path)
    return paths[0]


def build_data_docs(results: str | Path, out_dir: str | Path) -> Path:
    """Render every GX result JSON in `results` as HTML under `out_dir`; returns index.html."""
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResultSchema,
    )
    from great_expectations.render.renderer import ValidationResultsPageRenderer
    from great_expectations.render.view import DefaultJinjaPageView

    results, out_dir = Path(results), Path(out_dir)
    files = sorted(results.glob("*.json"))
    if not files:
        raise FileNotFoundError(f"no validation results (*.json) in {results}")
    out_dir.mkdir(parents=True, exist_ok=True)
    renderer, view = ValidationResultsPageRenderer(), DefaultJinjaPageView()
    rows = []
    for path in files:
        data = json.loads(path.read_text(encoding="utf-8"))
        result = ExpectationSuiteValidationResultSchema().load(data)
        page = out_dir / f"{path.stem}.html"
        page.write_text(view.render(renderer.render(result)), encoding="utf-8")
        stats = data.get("statistics", {})
        rows.append(
            f"<tr><td><a href='{html.escape(page.name)}'>{html.escape(path.stem)}</a></td>"
            f"<td>{'passed' if data.get('success') else 'FAILED'}</td>"
            f"<td>{stats.get('successful_expectations', '')}/"
            f"{stats.get('evaluated_expectations', '')}</td></tr>"
        )
    index = out_dir / "index.html"
    index.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>Validation results</title>"
        "</head><body><h1>Validation results</h1><table border='1' cellpadding='4'>"
        "<tr><th>suite</th><th>result</th><th>expectations met</th></tr>"
        + "".join(rows)
        + "</table></body></html>",
        encoding="utf-8",
    )
    return index
