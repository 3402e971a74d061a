"""`BuildSettings`: the build's settings as a Dagster resource, so the UI can show and change them.

Each setting is declared once, on `core.settings.Settings` (type, default, environment variable,
description). This resource declares no setting of its own: its fields are generated from
`Settings`, every one optional, and a field left unset falls back to the environment, recrm.toml
and the default at run time (the same precedence as the CLI). The settings are loaded once per run
(`setup_for_execution`) and handed to every step of the run from there; no asset body reads the
environment.
"""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any

from dagster import ConfigurableResource, InitResourceContext
from pydantic import Field, PrivateAttr

from core.settings import Settings, load_settings

# Settings that are not resource config: the hash key is a secret (never in run records), the
# warehouse path and storage root are the WarehouseResource's, validity bounds are a nested table of recrm.toml,
# and the UI's URL is the CLI's business.
NOT_RESOURCE_CONFIG = ("hash_key", "warehouse_path", "storage_root", "validity", "dagster_ui_url")

BUILD_FIELDS = tuple(name for name in Settings.model_fields if name not in NOT_RESOURCE_CONFIG)


def _config_type(annotation: Any) -> Any:
    # Dagster config holds plain values: a path is a string.
    if annotation is Path:
        return str
    return annotation


def _fields() -> tuple[dict[str, Any], dict[str, Any]]:
    annotations, defaults = {}, {}
    for name in BUILD_FIELDS:
        info = Settings.model_fields[name]
        annotations[name] = _config_type(info.annotation) | None
        defaults[name] = Field(
            None, description=f"{info.description} (unset: environment, recrm.toml, default)"
        )
    return annotations, defaults


class _BuildSettingsBase(ConfigurableResource):
    """Build-wide knobs shown in the UI. The user-id hash key is read from RECRM_HASH_KEY at run
    time and is never part of the resource config (so it never shows in the UI or run records)."""

    _loaded: Settings | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        self._loaded = self._load()

    def _load(self) -> Settings:
        return load_settings(**{name: getattr(self, name) for name in BUILD_FIELDS})

    def settings(
        self, warehouse_path: str | None = None, storage_root: str | None = None
    ) -> Settings:
        """The run's settings (loaded once per run), with the warehouse resource's store: its
        path and its storage root (None: the embedded file), as the step's warehouse uses them."""
        # Outside a run (a sensor tick, a test) nothing is kept: the next call reads afresh.
        loaded = self._loaded if self._loaded is not None else self._load()
        if warehouse_path is None:
            return loaded
        return loaded.model_copy(
            update={"warehouse_path": Path(warehouse_path), "storage_root": storage_root or None}
        )


def _declare(namespace: dict) -> None:
    annotations, defaults = _fields()
    namespace["__annotations__"] = annotations
    namespace["__doc__"] = _BuildSettingsBase.__doc__
    namespace.update(defaults)


# A class statement would repeat every field; the fields are generated from `Settings` instead.
BuildSettings = types.new_class("BuildSettings", (_BuildSettingsBase,), exec_body=_declare)
BuildSettings.__module__ = __name__


def build_settings_resource(settings: Settings) -> ConfigurableResource:
    """The resource holding every build setting of `settings` (what the CLI and `dagster dev`
    configure)."""
    values = settings.model_dump(include=set(BUILD_FIELDS))
    return BuildSettings(**{k: str(v) if isinstance(v, Path) else v for k, v in values.items()})
