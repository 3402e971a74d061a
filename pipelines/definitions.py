"""The code location `dagster dev` loads (see [tool.dagster] in pyproject.toml).

Assets and asset checks are discovered from the `assets` package, so a new dimension, domain
adapter or labeler is picked up by adding its module: nothing here needs editing.
"""

from __future__ import annotations

from dagster import (
    Definitions,
    in_process_executor,
    load_asset_checks_from_package_module,
    load_assets_from_package_module,
)

import assets as assets_package
from core.paths import private_umask
from pipelines.jobs import JOBS
from pipelines.resources import default_resources
from pipelines.schedules import SCHEDULES
from pipelines.sensors import SENSORS

# What runs of this code location write (warehouse, quarantine, run storage, releases) is
# owner-only: `dagster dev` and each run process load this module.
private_umask()

ALL_ASSETS = load_assets_from_package_module(assets_package)
ALL_CHECKS = load_asset_checks_from_package_module(assets_package)

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
