"""The code location `dagster dev` loads (see [tool.dagster] in pyproject.toml).

Assets and asset checks are discovered from the `assets` package, so a new dimension, domain
adapter or labeler is picked up by adding its module, and those of dimension packages installed
with a `recrm.dimensions` entry point from their declarations: nothing here needs editing.
"""

from __future__ import annotations

from pathlib import Path

from dagster import (
    Definitions,
    in_process_executor,
    load_asset_checks_from_package_module,
    load_assets_from_package_module,
)

import assets as assets_package
from assets.dimensions.plugins import dimension_assets, dimension_checks
from core.paths import make_private, private_umask
from pipelines.jobs import JOBS
from pipelines.resources import default_resources
from pipelines.schedules import SCHEDULES
from pipelines.sensors import SENSORS

# What runs of this code location write (warehouse, quarantine, run storage, releases) is
# owner-only: `dagster dev`'s code server and each run process load this module. The webserver
# and daemon create `.dagster/` before loading it, so the folder is closed here too.
private_umask()
if Path("dagster.yaml").is_file() and Path(".dagster").is_dir():
    make_private(".dagster")

ALL_ASSETS = load_assets_from_package_module(assets_package) + dimension_assets()
ALL_CHECKS = load_asset_checks_from_package_module(assets_package) + dimension_checks()

defs = Definitions(
    assets=ALL_ASSETS,
    asset_checks=ALL_CHECKS,
    jobs=JOBS,
    schedules=SCHEDULES,
    sensors=SENSORS,
    resources=default_resources(),
    # One process: DuckDB admits a single writer per warehouse file.
    executor=in_process_executor,
)
