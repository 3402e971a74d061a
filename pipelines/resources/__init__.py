"""Dagster resources: thin configurable wrappers around the plain objects in `core`."""

from __future__ import annotations

import os
from pathlib import Path

from core.settings import Settings, load_config_file, load_settings
from pipelines.resources.evaluation import EvaluationSettings
from pipelines.resources.llm import LLMResource
from pipelines.resources.settings import BuildSettings
from pipelines.resources.warehouse import WarehouseResource

__all__ = [
    "BuildSettings",
    "EvaluationSettings",
    "LLMResource",
    "WarehouseResource",
    "default_resources",
]


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
        "warehouse": WarehouseResource(path=str(settings.warehouse_path)),
        "build": BuildSettings(
            logs_root=str(settings.logs_root),
            releases_dir=str(settings.releases_dir),
            profile=settings.profile,
            seed=settings.seed,
            release_version=settings.release_version,
            overwrite_release=settings.overwrite_release,
            release_shard_rows=settings.release_shard_rows,
            allow_dev_key=settings.allow_dev_key,
        ),
        # Unset fields resolve at run time from recrm.toml [llm] and RECRM_LLM_* (key included).
        "llm": LLMResource(),
        "evaluation": EvaluationSettings(results_dir=str(default_results_dir())),
    }
