"""Project configuration, with one precedence everywhere:

    command-line flags > environment (`RECRM_*`) > `recrm.toml` > defaults

`Settings` is a pydantic-settings model: the environment variable of each field is declared on
the field (`RECRM_WAREHOUSE` -> `warehouse_path`), `recrm.toml` is one more settings source below
the environment, and explicit keyword arguments (the CLI's flags) sit above both. Unknown keys are
rejected in every section of `recrm.toml` (`[recrm]`, `[llm]`, `[eval]`), and an unknown section
is rejected too, with the file and the key named.

Everything a build depends on lives in one typed object so that it can be fingerprinted into the
release manifest (secrets excluded).
"""

from __future__ import annotations

import hashlib
import hmac
import warnings
from pathlib import Path

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from core.config_file import ConfigError, ConfigFileSource, register_section
from core.defaults import DEFAULTS, EMBEDDED, ENV_VARS

# recrm.toml's [llm] section is LLMConfig's: imported so that loading the settings checks it too.
from core.llm import config as _llm_config  # noqa: F401

# The development key is public on purpose: it makes the pipeline runnable out of the box, and
# `hash_key_is_default` makes every entry point warn loudly when it is in use.
DEV_HASH_KEY = "recrm-dev-key-NOT-FOR-PRODUCTION"


class ValidityThresholds(BaseModel):
    """Bounds of the validity gate (`assets/checks/validity/gate.py`): a release whose shortcut
    baselines score above them, that leaks, or whose relevance labels disagree with the truth
    (where a drop has it) fails the blocking `["release"]:validity` check and `recrm validate`."""

    model_config = ConfigDict(extra="forbid")

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


def _env(field: str) -> AliasChoices:
    # The field's own name (keyword arguments, recrm.toml) or its environment variable.
    return AliasChoices(field, ENV_VARS[field])


class Settings(BaseModel):
    """Paths and knobs shared by the CLI, the Dagster resources and the benchmarks.

    A plain value: constructing it reads nothing. `load_settings` fills it from the sources."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    logs_root: Path = Field(
        Path(DEFAULTS["logs_root"]),
        description="folder with one sub-folder per domain",
        validation_alias=_env("logs_root"),
    )
    warehouse_path: Path = Field(
        Path(DEFAULTS["warehouse_path"]),
        description="the embedded DuckDB file, the store when it is named (RECRM_WAREHOUSE, "
        "--warehouse, recrm.toml) and no storage root is; under a storage root, the local base "
        "of what stays on this machine (`<path>.tmp/` spill folder, validation results beside it)",
        validation_alias=_env("warehouse_path"),
    )
    # The default store: every table is Parquet files per partition with a catalog, and domains
    # can be built by concurrent processes (core/storage.py, docs/deploy.md). Which store a
    # source set selects: `_choose_store` below.
    storage_root: str | None = Field(
        DEFAULTS["storage_root"],
        description="the default store: tables as Parquet under a folder or s3://bucket/prefix "
        f"(default {DEFAULTS['storage_root']}); a named warehouse_path with no storage_root "
        f"named, or storage_root = {EMBEDDED!r}, selects the embedded DuckDB file",
        validation_alias=_env("storage_root"),
    )
    releases_dir: Path = Field(
        Path(DEFAULTS["releases_dir"]),
        description="where versioned releases go",
        validation_alias=_env("releases_dir"),
    )
    profile: str = Field(
        DEFAULTS["profile"],
        description="size profile, see schemas/profiles.py",
        validation_alias=_env("profile"),
    )
    seed: int = Field(
        DEFAULTS["seed"],
        description="build seed; every random choice derives from it",
        validation_alias=_env("seed"),
    )
    hash_key: str = Field(
        DEV_HASH_KEY,
        description="key of the user-id hash",
        repr=False,
        validation_alias=_env("hash_key"),
    )
    release_version: str | None = Field(
        None,
        description="release version; default from inputs",
        validation_alias=_env("release_version"),
    )
    overwrite_release: bool = Field(False, description="replace an existing release version")
    release_shard_rows: int = Field(
        DEFAULTS["release_shard_rows"],
        gt=0,
        description="rows per Parquet shard of a release (changes shard bytes)",
        validation_alias=_env("release_shard_rows"),
    )
    timestamp_window_start: str = Field(
        DEFAULTS["timestamp_window_start"],
        description="earliest plausible log timestamp (UTC); earlier: quarantined",
        validation_alias=_env("timestamp_window_start"),
    )
    timestamp_window_future_days: float = Field(
        DEFAULTS["timestamp_window_future_days"],
        ge=0,
        description="latest plausible timestamp: now + this many days; later: quarantined",
        validation_alias=_env("timestamp_window_future_days"),
    )
    allow_dev_key: bool = Field(
        DEFAULTS["allow_dev_key"],
        description="allow building with the PUBLIC development hash key (demos, tests)",
        validation_alias=_env("allow_dev_key"),
    )
    validity: ValidityThresholds = Field(
        default_factory=ValidityThresholds,
        description="bounds of the validity gate ([recrm.validity] in recrm.toml)",
    )
    dimensions: list[str] | None = Field(
        None, description="dimensions the release holds (None: all); the rest are left out"
    )
    max_quarantine_rate: float = Field(
        DEFAULTS["max_quarantine_rate"],
        ge=0,
        le=1,
        description="share of a table's records quarantined that fails ingest",
        validation_alias=_env("max_quarantine_rate"),
    )
    dagster_ui_url: str = Field(
        DEFAULTS["dagster_ui_url"],
        description="where `dagster dev` serves the UI: the CLI prints run links under it",
        validation_alias=_env("dagster_ui_url"),
    )
    template_versions: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULTS["template_versions"]),
        description="prompt template -> the version a build renders (those not given keep "
        "their default pin; see core/templates.py)",
        validation_alias=_env("template_versions"),
    )

    @model_validator(mode="before")
    @classmethod
    def _choose_store(cls, data: object) -> object:
        """The one rule of which store a build uses, decided on what the sources set (a flag, a
        keyword, the environment, recrm.toml; never a default):
        - neither named: the storage root `data/tables` (the default store);
        - a warehouse file named and no storage root: the embedded DuckDB file;
        - both named: the storage root (the file names the local spill base);
        - storage_root named as "none": the embedded file (at warehouse_path, named or not).
        """
        if not isinstance(data, dict):
            return data
        named = {k for k, v in data.items() if v is not None or k in _STORE_KEYS["storage_root"]}
        if named & _STORE_KEYS["warehouse_path"] and not named & _STORE_KEYS["storage_root"]:
            return {**data, "storage_root": None}
        return data

    @field_validator("storage_root", mode="before")
    @classmethod
    def _embedded_by_name(cls, value: object) -> object:
        if isinstance(value, Path):
            value = str(value)
        if isinstance(value, str) and value.strip().lower() == EMBEDDED:
            return None  # the embedded DuckDB file
        return value

    @property
    def embedded(self) -> bool:
        """Whether the store is the embedded DuckDB file (`warehouse_path`), not a storage root."""
        return not self.storage_root

    @property
    def store(self) -> str:
        """Where the tables are, for messages: the storage root, or the warehouse file."""
        return str(self.warehouse_path) if self.embedded else str(self.storage_root)

    @field_validator("template_versions")
    @classmethod
    def _pins_over_defaults(cls, pins: dict[str, int]) -> dict[str, int]:
        # A partial table pins those templates and keeps the default pin of the others.
        return {**DEFAULTS["template_versions"], **pins}

    @field_validator("profile")
    @classmethod
    def _known_profile(cls, name: str) -> str:
        from schemas.profiles import PROFILES

        if name not in PROFILES:
            raise ValueError(f"unknown size profile {name!r}; known: {', '.join(PROFILES)}")
        return name

    @property
    def hash_key_is_default(self) -> bool:
        return self.hash_key == DEV_HASH_KEY

    @property
    def hash_key_id(self) -> str:
        """Which key hashed the user ids, safe to publish: a digest of the key, never the key."""
        return key_id(self.hash_key)

    def require_usable_key(self) -> None:
        """Building with the public development key needs an explicit opt-in (`--allow-dev-key`
        or RECRM_ALLOW_DEV_KEY=1): anyone can reverse hashes made with a public key."""
        if self.hash_key_is_default and not self.allow_dev_key:
            raise DevKeyRefused(
                "RECRM_HASH_KEY is not set, and the public development key would let anyone "
                "reverse the user-id hashes: set RECRM_HASH_KEY to a secret, or pass "
                "--allow-dev-key (RECRM_ALLOW_DEV_KEY=1) for a demo build."
            )

    def public_dict(self) -> dict:
        """The configuration without secrets, as it goes into manifests and metadata."""
        return self.model_dump(mode="json", exclude={"hash_key", "allow_dev_key"})


# The names under which a source sets each store field: the field's own, its variable.
_STORE_KEYS = {f: {f, ENV_VARS[f]} for f in ("warehouse_path", "storage_root")}


class DevKeyRefused(RuntimeError):
    """A build asked to hash user ids with the public development key without opting in."""


def key_id(key: str) -> str:
    """`hmac-sha256:<16 hex>`: a digest naming a key (HMAC of a fixed label with the key), so
    that two releases can be told to share a key without the key being recoverable."""
    digest = hmac.new(key.encode("utf-8"), b"recrm key id", hashlib.sha256).hexdigest()
    return f"hmac-sha256:{digest[:16]}"


class _SettingsSources(Settings, BaseSettings):
    """`Settings` read from its sources (pydantic-settings): each field's environment variable
    is its second alias (`RECRM_WAREHOUSE`), recrm.toml's `[recrm]` is the source below it."""

    model_config = SettingsConfigDict(
        extra="forbid", populate_by_name=True, case_sensitive=True, env_ignore_empty=True
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Earlier sources win: flags > environment > recrm.toml > field defaults.
        return (init_settings, env_settings, ConfigFileSource(settings_cls, "recrm"))


register_section("recrm", Settings)


def load_settings(**overrides) -> Settings:
    """Settings from defaults < config file < environment < explicit overrides (None ignored)."""
    values = {k: v for k, v in overrides.items() if v is not None}
    unknown = sorted(set(values) - set(Settings.model_fields))
    if unknown:
        raise ConfigError(f"unknown setting(s) {', '.join(unknown)}")
    try:
        loaded = _SettingsSources(**values)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from exc
    return Settings.model_validate(dict(loaded))


def _describe(exc: ValidationError) -> str:
    """One line per problem: `setting seed: Input should be a valid integer (got 'x')`."""
    lines = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "settings"
        lines.append(f"setting {where}: {err['msg']} (got {err.get('input')!r})")
    return "; ".join(lines)


def warn_if_default_key(settings: Settings) -> None:
    if settings.hash_key_is_default:
        warnings.warn(
            "RECRM_HASH_KEY is not set: user ids are hashed with the PUBLIC development key. "
            "Set RECRM_HASH_KEY to a secret before building anything you will share.",
            stacklevel=2,
        )
