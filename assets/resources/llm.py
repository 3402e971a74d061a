from dagster import ConfigurableResource

from core.llm.config import LLMConfig, load_llm_config


class LLMResource(ConfigurableResource):
    """The LLM endpoint the judge and generator assets use.

    Every field left unset falls back to `[llm]` in recrm.toml, then RECRM_LLM_* variables (see
    core.llm.config). The API key is never part of the resource config (it would show in the UI and
    in run records): it comes from RECRM_LLM_API_KEY or the config file at run time.
    """

    base_url: str | None = None
    model: str | None = None
    temperature: float | None = None
    seed: int | None = None
    max_tokens: int | None = None
    concurrency: int | None = None
    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None
    timeout: float | None = None
    max_retries: int | None = None
    budget_calls: int | None = None
    budget_tokens: int | None = None
    policy: str | None = None
    generate_max_requests: int | None = None

    def config(self) -> LLMConfig:
        overrides = {k: v for k, v in self.model_dump().items() if v is not None}
        return load_llm_config(**overrides)
