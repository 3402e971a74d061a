"""Settings: defaults < recrm.toml < RECRM_* < explicit overrides; the dev-key warning."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from core.settings import DEV_HASH_KEY, load_settings, warn_if_default_key


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for var in (
        "RECRM_CONFIG",
        "RECRM_LOGS_ROOT",
        "RECRM_WAREHOUSE",
        "RECRM_PROFILE",
        "RECRM_SEED",
        "RECRM_HASH_KEY",
        "RECRM_RELEASES_DIR",
        "RECRM_RELEASE_VERSION",
    ):
        monkeypatch.delenv(var, raising=False)


def test_precedence(monkeypatch, tmp_path):
    assert load_settings().profile == "small"
    (tmp_path / "recrm.toml").write_text('[recrm]\nprofile = "paper"\nseed = 1\n')
    assert (load_settings().profile, load_settings().seed) == ("paper", 1)
    monkeypatch.setenv("RECRM_SEED", "2")
    assert load_settings().seed == 2
    assert load_settings(seed=3, profile=None).seed == 3  # None overrides are ignored
    assert load_settings().profile == "paper"
    assert load_settings(logs_root="x").logs_root == Path("x")


def test_hash_key_is_secret_and_warned():
    settings = load_settings()
    assert settings.hash_key == DEV_HASH_KEY and settings.hash_key_is_default
    assert "hash_key" not in settings.public_dict() and DEV_HASH_KEY not in repr(settings)
    with pytest.warns(UserWarning, match="PUBLIC development key"):
        warn_if_default_key(settings)


def test_secret_key_does_not_warn(monkeypatch):
    monkeypatch.setenv("RECRM_HASH_KEY", "s3cret")
    settings = load_settings()
    assert not settings.hash_key_is_default
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_if_default_key(settings)


def test_config_file_from_env(monkeypatch, tmp_path):
    config = tmp_path / "other.toml"
    config.write_text('[recrm]\nwarehouse_path = "w.duckdb"\n')
    monkeypatch.setenv("RECRM_CONFIG", str(config))
    assert load_settings().warehouse_path == Path("w.duckdb")
