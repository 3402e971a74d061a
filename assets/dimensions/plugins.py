"""The Dagster steps of the dimensions installed packages declare (schemas/dimensions.py).

Built-in dimensions keep their assets in `assets/dimensions/<name>/assets.py`, which the code
location finds with the `assets` package; a package's dimension names the module holding its
`[<name>, "entries"]` asset (and any checks) in `assets_module`, and these functions load them.
The shared layers (`judged`, `benchmark`, the checks, the release) are made for every
registered dimension already.
"""

from __future__ import annotations

import importlib

from dagster import load_asset_checks_from_modules, load_assets_from_modules

from schemas.dimensions import plugins


def _modules() -> list:
    return [importlib.import_module(d.assets_module) for d in plugins() if d.assets_module]


def dimension_assets() -> list:
    """The assets of every installed dimension package."""
    modules = _modules()
    return list(load_assets_from_modules(modules)) if modules else []


def dimension_checks() -> list:
    """The asset checks of every installed dimension package."""
    modules = _modules()
    return list(load_asset_checks_from_modules(modules)) if modules else []
