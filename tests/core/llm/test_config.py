import logging

import pytest
from pydantic import ValidationError

from assets.resources import LLMResource
from core.llm.cache import ResponseCache
from core.llm.client import LLMClient, LLMRequest
from core.llm.config import AgreementPolicy, LLMConfig, load_llm_config
from core.warehouse import Warehouse

SECRET = "sk-test-SECRET-0123456789"


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in ("RECRM_LLM_BASE_URL", "RECRM_LLM_MODEL", "RECRM_LLM_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "recrm.toml"
    monkeypatch.setenv("RECRM_CONFIG", str(config))
    return config


def test_off_by_default(clean_env):
    config = load_llm_config()
    assert not config.enabled and config.policy is AgreementPolicy.prefer_human_rule
    with pytest.raises(ValueError, match="RECRM_LLM_BASE_URL"):
        LLMClient(config)


def test_file_then_env_then_resource(clean_env, monkeypatch):
    clean_env.write_text(
        '[llm]\nbase_url = "http://file:1/v1/"\nmodel = "file-model"\nconcurrency = 3\n'
        'policy = "agree_only"\n'
    )
    config = load_llm_config()
    assert (config.base_url, config.model, config.concurrency) == (
        "http://file:1/v1",
        "file-model",
        3,
    )
    assert config.policy is AgreementPolicy.agree_only
    monkeypatch.setenv("RECRM_LLM_MODEL", "env-model")
    monkeypatch.setenv("RECRM_LLM_BASE_URL", "http://env:2/v1")
    assert load_llm_config().model == "env-model"
    resource = LLMResource(model="resource-model", concurrency=5)
    config = resource.config()
    assert (config.base_url, config.model, config.concurrency) == (
        "http://env:2/v1",
        "resource-model",
        5,
    )


def test_bad_values_are_rejected(clean_env):
    with pytest.raises(ValidationError):
        LLMConfig(concurrency=0)
    with pytest.raises(ValidationError):
        LLMConfig(policy="whatever")


def test_the_api_key_never_leaks(clean_env, monkeypatch, fake_server, tmp_path, caplog):
    monkeypatch.setenv("RECRM_LLM_API_KEY", SECRET)
    monkeypatch.setenv("RECRM_LLM_BASE_URL", fake_server.base_url)
    caplog.set_level(logging.DEBUG)
    config = LLMResource(max_retries=0).config()
    assert config.api_key.get_secret_value() == SECRET
    client = LLMClient(config, ResponseCache(Warehouse(tmp_path / "wh.duckdb")))
    fake_server.inject("500")
    results, usage = client.run(
        [LLMRequest.chat(None, "hi", "t.v1:x"), LLMRequest.chat(None, "yo", "t.v1:x")]
    )
    # It is sent to the server, as a bearer token ...
    assert fake_server.auth_headers == [f"Bearer {SECRET}"] * 2
    # ... and shows nowhere else.
    wh = Warehouse(tmp_path / "wh.duckdb")
    shown = [
        repr(config),
        str(config),
        config.model_dump_json(),
        str(config.public_dict()),
        repr(client),
        repr(LLMResource()),
        str(results),
        str(usage.as_metadata()),
        caplog.text,
        str(wh.query("SELECT * FROM llm_failures").to_dicts()),
        str(wh.query("SELECT * FROM llm_cache").to_dicts()),
    ]
    for text in shown:
        assert SECRET not in text
    assert "api_key" not in config.public_dict()
