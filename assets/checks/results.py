"""Validation results kept with the run, and GX Data Docs rendered from them.

Each check writes its GX result JSON to `<warehouse folder>/validation/<run_id>/<name>.json`
(by default `data/validation/<run_id>/`), next to the run that produced it. The CLI adds each
run's results to the warehouse's GX Data Docs site, `data/validation/docs/index.html`, which the
checks' metadata link; `assets.checks.data_docs` builds the sites (`recrm validate RELEASE_DIR
--data-docs OUT`: a site of a published release's shards).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from assets.checks.validation import SuiteOutcome

VALIDATION_FOLDER = "validation"


def results_dir(warehouse_path: str | Path, run_id: str) -> Path:
    return validation_root(warehouse_path) / run_id


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


def validation_root(warehouse_path: str | Path) -> Path:
    """`<warehouse folder>/validation`: every run's results, and the Data Docs site of them."""
    return Path(warehouse_path).parent / VALIDATION_FOLDER


def site_index(validation_root: str | Path) -> Path:
    """Where the warehouse's Data Docs site is: `<validation root>/docs/index.html`."""
    return Path(validation_root) / "docs" / "index.html"
