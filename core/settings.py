"""Project configuration: defaults, then `recrm.toml` (if present), then `RECRM_*` variables.

Everything a build depends on lives in one typed object so that it can be fingerprinted into the
release manifest (secrets excluded).
"""

from __future__ import annotations

import os
import tomllib
import warnings
from pathlib import Path

from pydantic import BaseModel, Field

# The development key is public on purpose: it makes the pipeline runnable out of the box, and
# `hash_key_is_default` makes every entry point warn loudly when it is in use.
DEV_HASH_KEY = "recrm-dev-key-NOT-FOR-PRODUCTION"

CONFIG_FILE_ENV = "RECRM_CONFIG"
DEFAULT_CONFIG_FILE = "recrm.toml"


class Settings(BaseModel):
    """Paths and knobs shared by the CLI, the Dagster resources and the benchmarks."""

    logs_root: Path = Field(
        Path("sample_logs"), description="folder with one sub-folder per domain"
    )
    warehouse_path: Path = Field(Path("data/warehouse.duckdb"), description="DuckDB file")
    releases_dir: Path = Field(Path("releases"), description="where versioned releases go")
    profile: str = Field("small", description="size profile, see schemas/profiles.py")
    seed: int = Field(20260511, description="build seed; every random choice derives from it")
    hash_key: str = Field(DEV_HASH_KEY, description="key of the user-id hash", repr=False)
    release_version: str | None = Field(None, description="release version; default from inputs")
    overwrite_release: bool = Field(False, description="replace an existing release version")
    release_shard_rows: int = Field(
        100_000, gt=0, description="rows per Parquet shard of a release (changes shard bytes)"
    )
    dimensions: list[str] | None = Field(
        None, description="dimensions the release holds (None: all); the rest are left out"
    )
    max_quarantine_rate: float = Field(
        0.01, ge=0, le=1, description="share of a table's records quarantined that fails ingest"
    )

    @property
    def hash_key_is_default(self) -> bool:
        return self.hash_key == DEV_HASH_KEY

    def public_dict(self) -> dict:
        """The configuration without secrets, as it goes into manifests and metadata."""
        return self.model_dump(mode="json", exclude={"hash_key"})


_ENV_FIELDS = {
    "RECRM_LOGS_ROOT": "logs_root",
    "RECRM_WAREHOUSE": "warehouse_path",
    "RECRM_RELEASES_DIR": "releases_dir",
    "RECRM_PROFILE": "profile",
    "RECRM_SEED": "seed",
    "RECRM_HASH_KEY": "hash_key",
    "RECRM_RELEASE_VERSION": "release_version",
    "RECRM_RELEASE_SHARD_ROWS": "release_shard_rows",
    "RECRM_MAX_QUARANTINE_RATE": "max_quarantine_rate",
}


def load_config_file(path: Path | None = None) -> dict:
    """The `[recrm]` table of the config file, or {} when there is none."""
    path = path or Path(os.environ.get(CONFIG_FILE_ENV, DEFAULT_CONFIG_FILE))
    if not path.is_file():
        return {}
    with path.open("rb") as fh:
        return tomllib.load(fh)


def load_settings(**overrides) -> Settings:
    """Settings from defaults < config file < environment < explicit overrides (None ignored)."""
    values: dict = dict(load_config_file().get("recrm", {}))
    for env_name, field in _ENV_FIELDS.items():
        if os.environ.get(env_name):
            values[field] = os.environ[env_name]
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**values)


def warn_if_default_key(settings: Settings) -> None:
    if settings.hash_key_is_default:
        warnings.warn(
            "RECRM_HASH_KEY is not set: user ids are hashed with the PUBLIC development key. "
            "Set RECRM_HASH_KEY to a secret before building anything you will share.",
            stacklevel=2,
        )
