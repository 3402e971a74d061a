"""recrm.toml (or the file RECRM_CONFIG names): read once per load, every section checked.

Each section belongs to one model that registers it (`register_section`): `[recrm]` is
`core.settings.Settings`, `[llm]` is `core.llm.config.LLMConfig`, `[eval]` is `EvalFileConfig`
below. Unknown sections, and unknown keys in any registered section, raise `ConfigError` naming
the file and the key. This module imports neither model, so each imports it without a cycle.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

CONFIG_FILE_ENV = "RECRM_CONFIG"
DEFAULT_CONFIG_FILE = "recrm.toml"
# Every section recrm.toml may hold (a section's keys are checked by its registered model).
SECTIONS = ("recrm", "llm", "eval")

_MODELS: dict[str, type[BaseModel]] = {}


class ConfigError(ValueError):
    """A configuration file or value that cannot be used; the message names file and key."""


def register_section(section: str, model: type[BaseModel]) -> None:
    """`model`'s fields are the keys of `[section]`."""
    if section not in SECTIONS:
        raise ValueError(f"unknown recrm.toml section [{section}] (known: {', '.join(SECTIONS)})")
    _MODELS[section] = model


class EvalFileConfig(BaseModel):
    """`[eval]` of recrm.toml (RECRM_RESULTS_DIR overrides it)."""

    model_config = ConfigDict(extra="forbid")

    results_dir: Path | None = Field(None, description="evaluation results folder")


register_section("eval", EvalFileConfig)


def config_file_path(path: Path | None = None) -> Path:
    return Path(path or os.environ.get(CONFIG_FILE_ENV) or DEFAULT_CONFIG_FILE)


def _field_names(model: type[BaseModel]) -> set[str]:
    return set(model.model_fields)


def load_config_file(path: Path | None = None) -> dict:
    """The parsed config file, or {} when there is none. Unknown sections, and unknown keys in
    any section, raise ConfigError naming the file and the key."""
    path = config_file_path(path)
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from exc
    for section, body in data.items():
        if section not in SECTIONS:
            raise ConfigError(
                f"{path}: unknown section [{section}] (known: "
                + ", ".join(f"[{s}]" for s in SECTIONS)
                + ")"
            )
        if not isinstance(body, dict):
            raise ConfigError(f"{path}: [{section}] must be a table")
        model = _MODELS.get(section)
        if model is None:
            continue  # its model is not loaded in this process: it checks the section itself
        unknown = sorted(set(body) - _field_names(model))
        if unknown:
            known = ", ".join(sorted(_field_names(model)))
            raise ConfigError(
                f"{path}: unknown key(s) {', '.join(unknown)} in [{section}] (known: {known})"
            )
    return data


class ConfigFileSource(PydanticBaseSettingsSource):
    """One section of recrm.toml (or the file RECRM_CONFIG names) as a settings source."""

    def __init__(self, settings_cls: type[BaseSettings], section: str):
        super().__init__(settings_cls)
        self.section = section

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        raise NotImplementedError  # __call__ returns the whole section at once

    def __call__(self) -> dict[str, Any]:
        return dict(load_config_file().get(self.section, {}))
