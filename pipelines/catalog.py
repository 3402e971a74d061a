"""Every asset and asset check of the `assets` package and of installed dimension packages,
loaded once.

The code location (`definitions.py`) and the in-process runner of the CLI (`runner.py`) both
take them from here, so the runner never imports `definitions` (which imports the sensors, which
import the runner: the circle this module breaks)."""

from dagster import load_asset_checks_from_package_module, load_assets_from_package_module

import assets as assets_package
from assets.dimensions.plugins import dimension_assets, dimension_checks

ALL_ASSETS = load_assets_from_package_module(assets_package) + dimension_assets()
ALL_CHECKS = load_asset_checks_from_package_module(assets_package) + dimension_checks()
