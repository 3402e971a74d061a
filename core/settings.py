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


class ValidityThresholds(BaseModel):
    """Bounds of the validity gate (`assets/checks/validity/gate.py`): a release whose shortcut
    baselines score above them, that leaks, or whose relevance labels disagree with the truth
    (where a drop has it) fails the blocking `["release"]:validity` check and `recrm validate`."""

    marker_max_acc: float = Field(
        0.55, ge=0, le=1, description="marker rule ACC on test (IF, FC); 0.5 is chance"
    )
    response_ngram_max_auc: float = Field(
        0.60, ge=0, le=1, description="response-only character n-gram classifier AUC (IF, FC)"
    )
    synthetic_detector_max_auc: float = Field(
        0.70, ge=0, le=1, description="synthetic-vs-logged detector AUC on the response (IF, FC)"
    )
    length_max_auc: float = Field(0.65, ge=0, le=1, description="response-length-only AUC (IF, FC)")
    position_max_auc: float = Field(
        0.60, ge=0, le=1, description="listing-order-only per-list AUC (item ranking)"
    )
    max_leaks: int = Field(
        0, ge=0, description="held-out units found in train (users, responses, pairs, time)"
    )
    relevance_min_agreement: float = Field(
        0.85, ge=0, le=1, description="relevance labels equal to the true grade (with _truth)"
    )
    relevance_min_grade_share: float = Field(
        0.10, ge=0, le=1, description="smallest share of a relevance grade (with _truth)"
    )
    confidence: float = Field(
        0.95,
        gt=0,
        lt=1,
        description="a figure beyond its bound fails the gate when its confidence interval at "
        "this level lies beyond the bound too; else it is a warning (small test splits)",
    )
    strict: bool = Field(
        False, description="fail on the figure itself beyond its bound, whatever its interval"
    )


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
    validity: ValidityThresholds = Field(
        default_factory=ValidityThresholds,
        description="bounds of the validity gate ([recrm.validity] in recrm.toml)",
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
