"""The code location `dagster dev` loads (see [tool.dagster] in pyproject.toml).

Assets and asset checks are discovered from the `assets` package and from dimension packages
installed with a `recrm.dimensions` entry point (`pipelines/catalog.py`), so a new dimension,
domain adapter or labeler is picked up by adding its module or installing its package: nothing
here needs editing. This module is the top layer: nothing imports it (the import-linter contract
in pyproject.toml says so).
"""

from __future__ import annotations

from pathlib import Path

from dagster import Definitions, in_process_executor

from core.paths import make_private, private_umask
from pipelines.catalog import ALL_ASSETS, ALL_CHECKS
from pipelines.jobs import JOBS
from pipelines.resources import default_resources
from pipelines.schedules import SCHEDULES
from pipelines.sensors import SENSORS

__all__ = ["ALL_ASSETS", "ALL_CHECKS", "defs"]

# What runs of this code location write (warehouse, quarantine, run storage, releases) is
# owner-only: `dagster dev`'s code server and each run process load this module. The webserver
# and daemon create `.dagster/` before loading it, so the folder is closed here too.
private_umask()
if Path("dagster.yaml").is_file() and Path(".dagster").is_dir():
    make_private(".dagster")

defs = Definitions(
    assets=ALL_ASSETS,
    asset_checks=ALL_CHECKS,
    jobs=JOBS,
    schedules=SCHEDULES,
    sensors=SENSORS,
    resources=default_resources(),
    # One process per run: the embedded store (a named DuckDB file) admits a single writer, and
    # under the default storage root a run's steps share one in-memory DuckDB instance.
    executor=in_process_executor,
)
