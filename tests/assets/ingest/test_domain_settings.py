"""The domain's settings file is recorded on ingest and read back by later steps."""

from __future__ import annotations

import pytest

from assets.ingest.domain_settings import (
    ingest_domain_settings,
    read_domain_settings,
    recorded_domain_settings,
)
from core.warehouse import Warehouse
from schemas.domain import DomainSettings, DomainSettingsError, domain_file


def test_recorded_settings_are_what_later_steps_read(tmp_path):
    logs = tmp_path / "logs"
    (logs / "hotel").mkdir(parents=True)
    (logs / "books").mkdir()
    domain_file(logs, "hotel").write_text('time_zone = "Asia/Shanghai"\n', encoding="utf-8")
    wh = Warehouse(tmp_path / "wh.duckdb")
    assert read_domain_settings(wh, "hotel") == DomainSettings()  # nothing recorded yet
    ingest_domain_settings(wh, logs, "hotel")
    ingest_domain_settings(wh, logs, "books")
    assert read_domain_settings(wh, "hotel").time_zone == "Asia/Shanghai"
    assert read_domain_settings(wh, "books").time_zone == "UTC"
    recorded = recorded_domain_settings(wh)
    assert recorded["hotel"]["source_file"] == "hotel/domain.toml"
    assert len(recorded["hotel"]["sha256"]) == 64
    assert recorded["books"] == {"time_zone": "UTC", "source_file": None, "sha256": None}
    # Re-ingesting a changed file replaces the domain's row, nothing else.
    domain_file(logs, "hotel").write_text('time_zone = "Europe/Berlin"\n', encoding="utf-8")
    ingest_domain_settings(wh, logs, "hotel")
    assert read_domain_settings(wh, "hotel").time_zone == "Europe/Berlin"
    assert wh.count("raw_domain_settings") == 2


def test_an_invalid_file_fails_the_ingest_naming_it(tmp_path):
    (tmp_path / "hotel").mkdir()
    domain_file(tmp_path, "hotel").write_text('time_zone = "Nowhere/City"\n', encoding="utf-8")
    with pytest.raises(DomainSettingsError, match="hotel/domain.toml: time_zone"):
        ingest_domain_settings(Warehouse(tmp_path / "wh.duckdb"), tmp_path, "hotel")
