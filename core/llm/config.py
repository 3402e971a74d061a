"""LLM endpoint configuration: defaults < `recrm.toml` `[llm]` < `RECRM_LLM_*` env < explicit values.

Any OpenAI-compatible endpoint works (OpenAI, vLLM, llama.cpp's server). Setting `base_url` turns
the LLM path on; without it every LLM asset is a pass-through. The API key is a `SecretStr`: it
never appears in reprs, logs, metadata or manifests (`public_dict` leaves it out).

    # recrm.toml
    [llm]
    base_url = "http://127.0.0.1:8080/v1"   # or RECRM_LLM_BASE_URL
    model = "smollm2"                       # or RECRM_LLM_MODEL (key: RECRM_LLM_API_KEY)
    concurrency = 16
    requests_per_minute = 600
    budget_calls = 20000                    # per build (one `recrm build` process)
    policy = "prefer_human_rule"            # or "agree_only"
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from core.config_file import ConfigError, config_file_path, load_config_file, register_section

ENV_FIELDS = {
    "RECRM_LLM_BASE_URL": "base_url",
    "RECRM_LLM_MODEL": "model",
    "RECRM_LLM_API_KEY": "api_key",
}
_ENV_OF = {field: env for env, field in ENV_FIELDS.items()}
# Local servers (llama.cpp, vLLM) accept any key; the openai client insists on one.
NO_KEY = "no-key"


class AgreementPolicy(StrEnum):
    """What to do when a judge and a rule/heuristic/human label both exist.

    prefer_human_rule: keep human and rule labels, let the judge decide what they leave open.
    agree_only: additionally drop entries whose rule/heuristic label the judge contradicts.
    """

    prefer_human_rule = "prefer_human_rule"
    agree_only = "agree_only"


class LLMConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    base_url: str | None = Field(
        None,
        description="OpenAI-compatible endpoint; None = LLM off",
        validation_alias=AliasChoices("base_url", _ENV_OF["base_url"]),
    )
    model: str = Field(
        "default",
        description="model name sent with every request",
        validation_alias=AliasChoices("model", _ENV_OF["model"]),
    )
    api_key: SecretStr = Field(
        SecretStr(NO_KEY),
        description="bearer key (secret)",
        validation_alias=AliasChoices("api_key", _ENV_OF["api_key"]),
    )
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    seed: int | None = Field(20260511, description="sampling seed, where the server honours it")
    max_tokens: int = Field(256, gt=0, description="completion token cap per call")
    concurrency: int = Field(8, gt=0, description="requests in flight at once")
    requests_per_minute: float | None = Field(None, gt=0)
    tokens_per_minute: float | None = Field(None, gt=0)
    timeout: float = Field(60.0, gt=0, description="seconds per HTTP request")
    max_retries: int = Field(5, ge=0, description="retries on 429/5xx/timeouts/cut connections")
    backoff_base: float = Field(0.5, gt=0, description="first backoff in seconds (doubles)")
    backoff_max: float = Field(30.0, gt=0, description="longest single backoff")
    max_reasks: int = Field(1, ge=0, description="re-asks after an answer that fails its schema")
    budget_calls: int | None = Field(None, ge=0, description="max paid calls per build")
    budget_tokens: int | None = Field(None, ge=0, description="max tokens per build")
    policy: AgreementPolicy = AgreementPolicy.prefer_human_rule
    response_format: Literal["json_object_schema", "json_schema", "json_object", "none"] = Field(
        "json_object_schema",
        description=(
            "how the output schema is sent: json_object + schema (llama.cpp grammar-constrains it),"
            " json_schema (OpenAI structured outputs), json_object, or none; the schema is always"
            " in the prompt as well"
        ),
    )
    cache_flush_every: int = Field(
        32,
        gt=0,
        description="most answers per cache write (a write also goes out 0.25 s after an answer)",
    )
    generate_max_requests: int | None = Field(
        500,
        ge=0,
        description="most requests per domain the response generator writes turns for (None: all)",
    )

    @field_validator("base_url")
    @classmethod
    def _strip(cls, value: str | None) -> str | None:
        value = (value or "").strip()
        return value.rstrip("/") or None

    @property
    def enabled(self) -> bool:
        return self.base_url is not None

    def public_dict(self) -> dict:
        """The configuration without the key: what metadata and manifests may show."""
        return self.model_dump(mode="json", exclude={"api_key"})

    def sampling_params(self) -> dict:
        """Parameters that change what the model answers (part of every cache key)."""
        return {"temperature": self.temperature, "seed": self.seed, "max_tokens": self.max_tokens}


register_section("llm", LLMConfig)


class _LLMConfigSources(LLMConfig, BaseSettings):
    """LLMConfig read from its sources (pydantic-settings): overrides > RECRM_LLM_* > [llm]."""

    model_config = SettingsConfigDict(
        frozen=True,
        extra="forbid",
        populate_by_name=True,
        case_sensitive=True,
        env_ignore_empty=True,
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
        return (init_settings, env_settings)


def load_llm_config(config_file: Path | None = None, **overrides) -> LLMConfig:
    """Config from defaults < `[llm]` in recrm.toml < RECRM_LLM_* env < overrides (None ignored).

    pydantic-settings reads the environment (each field's variable is its alias); the keys it
    set go over the file's section, and explicit overrides over both."""
    from_file = dict(load_config_file(config_file).get("llm", {}))
    explicit = {k: v for k, v in overrides.items() if v is not None}
    try:
        from_env = _LLMConfigSources().model_dump(exclude_unset=True)
        values = from_file | from_env | explicit
        return LLMConfig(**values)
    except ValidationError as exc:
        where = config_file_path(config_file)
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"LLM settings ({where} [llm], RECRM_LLM_*): {problems}") from exc
