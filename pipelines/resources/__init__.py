"""The code location's resources, configured from `Settings` (env and recrm.toml).

The resource classes live below the code location, in `assets/resources/` (the assets take
them); this module only configures them for `Definitions` and the CLI."""

from __future__ import annotations

import os
from pathlib import Path

from assets.resources import (
    EvaluationSettings,
    LLMResource,
    WarehouseResource,
    build_settings_resource,
)
from core.config_file import load_config_file
from core.settings import Settings, load_settings

__all__ = ["default_resources", "default_results_dir"]


def default_results_dir() -> Path:
    """RECRM_RESULTS_DIR, else `[eval] results_dir` in recrm.toml, else `results`."""
    configured = os.environ.get("RECRM_RESULTS_DIR") or load_config_file().get("eval", {}).get(
        "results_dir"
    )
    return Path(configured or "results")


def default_resources(settings: Settings | None = None) -> dict:
    """The resources of the code location, configured from `Settings` (env and recrm.toml)."""
    settings = settings or load_settings()
    return {
        "warehouse": WarehouseResource(
            path=str(settings.warehouse_path), storage_root=settings.storage_root
        ),
        "build": build_settings_resource(settings),
        # Unset fields resolve at run time from recrm.toml [llm] and RECRM_LLM_* (key included).
        "llm": LLMResource(),
        "evaluation": EvaluationSettings(results_dir=str(default_results_dir())),
    }
