"""`<logs_root>/<domain>/domain.toml`: one typed model, one loader, clear errors."""

from __future__ import annotations

import pytest

from schemas.domain import (
    DEFAULT_TIME_ZONE,
    DomainSettings,
    DomainSettingsError,
    domain_file,
    load_domain_settings,
)


def test_absent_file_means_utc(tmp_path):
    (tmp_path / "books").mkdir()
    assert load_domain_settings(tmp_path, "books") == DomainSettings()
    assert DomainSettings().time_zone == DEFAULT_TIME_ZONE == "UTC"


def test_written_file_loads_back(tmp_path):
    (tmp_path / "hotel").mkdir()
    settings = DomainSettings(time_zone="Asia/Shanghai")
    domain_file(tmp_path, "hotel").write_text(settings.to_toml(), encoding="utf-8")
    assert load_domain_settings(tmp_path, "hotel") == settings


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('time_zone = "Mars/Olympus"\n', "unknown IANA time zone 'Mars/Olympus'"),
        ('time_zone = "Asia/Shanghai"\ntimezone = "UTC"\n', "timezone: Extra inputs"),
        ("time_zone = \n", "not valid TOML"),
        ("time_zone = 8\n", "time_zone: Input should be a valid string"),
    ],
)
def test_bad_file_names_file_and_reason(tmp_path, text, reason):
    (tmp_path / "hotel").mkdir()
    path = domain_file(tmp_path, "hotel")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DomainSettingsError) as err:
        load_domain_settings(tmp_path, "hotel")
    assert str(path) in str(err.value) and reason in str(err.value)
