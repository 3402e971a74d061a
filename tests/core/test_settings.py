"""Settings: defaults < recrm.toml < RECRM_* < explicit overrides (flags); unknown keys are
rejected in every section; the dev-key warning."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from core.settings import DEV_HASH_KEY, Settings, load_settings, warn_if_default_key


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for var in (
        "RECRM_CONFIG",
        "RECRM_LOGS_ROOT",
        "RECRM_WAREHOUSE",
        "RECRM_STORAGE_ROOT",
        "RECRM_PROFILE",
        "RECRM_SEED",
        "RECRM_HASH_KEY",
        "RECRM_RELEASES_DIR",
        "RECRM_RELEASE_VERSION",
        "RECRM_RELEASE_SHARD_ROWS",
        "RECRM_DAGSTER_UI_URL",
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


@pytest.mark.parametrize(
    ("field", "env", "file_value", "env_value", "flag_value", "expected"),
    [
        ("logs_root", "RECRM_LOGS_ROOT", '"from-file"', "from-env", "from-flag", Path),
        ("warehouse_path", "RECRM_WAREHOUSE", '"f.duckdb"', "e.duckdb", "x.duckdb", Path),
        ("releases_dir", "RECRM_RELEASES_DIR", '"f"', "e", "x", Path),
        ("profile", "RECRM_PROFILE", '"paper"', "small", "paper", str),
        ("seed", "RECRM_SEED", "1", "2", 3, int),
        ("release_version", "RECRM_RELEASE_VERSION", '"f"', "e", "x", str),
        ("release_shard_rows", "RECRM_RELEASE_SHARD_ROWS", "10", "20", 30, int),
        ("dagster_ui_url", "RECRM_DAGSTER_UI_URL", '"http://f"', "http://e", "http://x", str),
    ],
)
def test_each_setting_follows_flags_env_file_defaults(
    monkeypatch, tmp_path, field, env, file_value, env_value, flag_value, expected
):
    default = getattr(load_settings(), field)
    (tmp_path / "recrm.toml").write_text(f"[recrm]\n{field} = {file_value}\n")
    from_file = getattr(load_settings(), field)
    assert from_file != default and from_file == expected(file_value.strip('"'))
    monkeypatch.setenv(env, env_value)
    assert getattr(load_settings(), field) == expected(env_value)
    assert getattr(load_settings(**{field: flag_value}), field) == expected(flag_value)
    monkeypatch.setenv(env, "")  # an empty variable counts as unset
    assert getattr(load_settings(), field) == from_file


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[recrm]\nprofle = "paper"\n', r"unknown key\(s\) profle in \[recrm\]"),
        ('[llm]\nbase_ur = "http://x"\n', r"unknown key\(s\) base_ur in \[llm\]"),
        ('[eval]\nresult_dir = "r"\n', r"unknown key\(s\) result_dir in \[eval\]"),
        ('[recm]\nprofile = "paper"\n', r"unknown section \[recm\]"),
        ("[recrm\n", "not valid TOML"),
    ],
)
def test_unknown_keys_and_sections_are_rejected_naming_the_file(tmp_path, text, message):
    from core.config_file import ConfigError

    (tmp_path / "recrm.toml").write_text(text)
    with pytest.raises(ConfigError, match=message) as caught:
        load_settings()
    assert "recrm.toml" in str(caught.value)


def test_a_bad_value_names_the_setting(monkeypatch):
    from core.config_file import ConfigError

    monkeypatch.setenv("RECRM_SEED", "twelve")
    with pytest.raises(ConfigError, match="setting seed: .*integer.*'twelve'"):
        load_settings()
    with pytest.raises(ConfigError, match="unknown setting"):
        load_settings(profle="paper")


def test_validity_bounds_come_from_recrm_toml_and_unknown_ones_are_refused(tmp_path, monkeypatch):
    from core.settings import load_settings

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RECRM_CONFIG", raising=False)
    (tmp_path / "recrm.toml").write_text("[recrm.validity]\nmarker_max_acc = 0.6\nstrict = true\n")
    validity = load_settings().validity
    assert validity.marker_max_acc == 0.6 and validity.strict is True
    assert validity.response_ngram_max_auc == 0.60  # the default
    (tmp_path / "recrm.toml").write_text("[recrm.validity]\nmarker_max = 0.6\n")
    with pytest.raises(Exception, match="marker_max"):
        load_settings()


# -- which store: the storage root by default, the embedded file when only a file is named ---


def _store(settings) -> tuple[Path, str | None]:
    return settings.warehouse_path, settings.storage_root


def test_the_default_store_is_the_storage_root():
    settings = load_settings()
    assert _store(settings) == (Path("data/warehouse.duckdb"), "data/tables")
    assert not settings.embedded and settings.store == "data/tables"
    assert Settings().storage_root == "data/tables"


@pytest.mark.parametrize("source", ["flag", "env", "file"])
def test_a_named_warehouse_file_alone_selects_the_embedded_file(source, monkeypatch, tmp_path):
    flags = {}
    if source == "flag":
        flags = {"warehouse_path": Path("mine.duckdb")}
    elif source == "env":
        monkeypatch.setenv("RECRM_WAREHOUSE", "mine.duckdb")
    else:
        (tmp_path / "recrm.toml").write_text('[recrm]\nwarehouse_path = "mine.duckdb"\n')
    settings = load_settings(**flags)
    assert _store(settings) == (Path("mine.duckdb"), None)
    assert settings.embedded and settings.store == "mine.duckdb"
    assert Settings(warehouse_path="mine.duckdb").storage_root is None  # the same rule in code


@pytest.mark.parametrize(
    ("file_from", "root_from"),
    [("flag", "flag"), ("flag", "env"), ("env", "file"), ("file", "file"), ("file", "env")],
)
def test_a_named_file_and_a_named_root_select_the_root(file_from, root_from, monkeypatch, tmp_path):
    flags, toml = {}, []
    for field, value, where in (
        ("warehouse_path", "mine.duckdb", file_from),
        ("storage_root", "/srv/tables", root_from),
    ):
        if where == "flag":
            flags[field] = value
        elif where == "env":
            monkeypatch.setenv(
                {"warehouse_path": "RECRM_WAREHOUSE"}.get(field, "RECRM_STORAGE_ROOT"), value
            )
        else:
            toml.append(f'{field} = "{value}"')
    (tmp_path / "recrm.toml").write_text("[recrm]\n" + "\n".join(toml) + "\n")
    assert _store(load_settings(**flags)) == (Path("mine.duckdb"), "/srv/tables")


@pytest.mark.parametrize("spelling", ["none", "None", "NONE"])
def test_storage_root_none_asks_for_the_embedded_file(spelling, monkeypatch, tmp_path):
    monkeypatch.setenv("RECRM_STORAGE_ROOT", spelling)
    assert _store(load_settings()) == (Path("data/warehouse.duckdb"), None)
    assert _store(load_settings(warehouse_path="w.duckdb")) == (Path("w.duckdb"), None)
    monkeypatch.delenv("RECRM_STORAGE_ROOT")
    assert _store(load_settings(storage_root=spelling)) == (Path("data/warehouse.duckdb"), None)
    (tmp_path / "recrm.toml").write_text(f'[recrm]\nstorage_root = "{spelling}"\n')
    assert load_settings().embedded
    # An empty variable counts as unset (every setting): the default store stays.
    (tmp_path / "recrm.toml").unlink()
    monkeypatch.setenv("RECRM_STORAGE_ROOT", "")
    assert _store(load_settings()) == (Path("data/warehouse.duckdb"), "data/tables")


def test_a_named_root_over_a_file_from_a_lower_source(monkeypatch, tmp_path):
    # recrm.toml names a file; the environment names a root: both named, the root wins. And a
    # flag naming the file does not undo a root the environment names.
    (tmp_path / "recrm.toml").write_text('[recrm]\nwarehouse_path = "t.duckdb"\n')
    monkeypatch.setenv("RECRM_STORAGE_ROOT", "r")
    assert _store(load_settings()) == (Path("t.duckdb"), "r")
    assert _store(load_settings(warehouse_path="f.duckdb")) == (Path("f.duckdb"), "r")
    monkeypatch.setenv("RECRM_STORAGE_ROOT", "none")
    assert _store(load_settings(warehouse_path="f.duckdb")) == (Path("f.duckdb"), None)


def test_the_loaded_store_survives_a_round_trip():
    # What the resources and manifests do with settings: dump and validate again.
    for settings in (load_settings(), load_settings(warehouse_path="w.duckdb")):
        again = Settings.model_validate(settings.model_dump())
        assert _store(again) == _store(settings)
