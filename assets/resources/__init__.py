"""Dagster resources the assets take: thin configurable wrappers around the plain objects in
`core` (settings, warehouse, LLM client config, evaluation results folder).

They live here, below the code location: assets import them, and `pipelines/` (the code
location) configures them (`pipelines.resources.default_resources`). Nothing here imports
`pipelines`.
"""

from assets.resources.evaluation import EvaluationSettings
from assets.resources.llm import LLMResource
from assets.resources.settings import BuildSettings, build_settings_resource
from assets.resources.warehouse import WarehouseResource

__all__ = [
    "BuildSettings",
    "EvaluationSettings",
    "LLMResource",
    "WarehouseResource",
    "build_settings_resource",
]
