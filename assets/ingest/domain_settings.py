"""A domain's `domain.toml` (schemas/domain.py) recorded in the warehouse on ingest, so that every
later step of a build, and the release manifest, read the same settings: `raw_domain_settings`,
one row per domain (the settings as JSON, the file and its sha256; no file: the defaults)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from assets.ingest.discover import sha256_file
from core.warehouse import Warehouse
from schemas.domain import DomainSettings, domain_file, load_domain_settings
from schemas.tables import DOMAIN_SETTINGS, DOMAIN_SETTINGS_SCHEMA

DOMAIN_SETTINGS_TABLE = DOMAIN_SETTINGS.name


def ingest_domain_settings(wh: Warehouse, logs_root: Path, domain: str) -> dict:
    """Validate and record the domain's settings; returns what was recorded."""
    settings = load_domain_settings(logs_root, domain)
    path = domain_file(logs_root, domain)
    present = path.is_file()
    row = {
        "domain": domain,
        "settings": settings.model_dump_json(),
        "source_file": f"{domain}/{path.name}" if present else None,
        "sha256": sha256_file(path) if present else None,
    }
    wh.write_partition(
        DOMAIN_SETTINGS_TABLE,
        domain,
        pa.Table.from_pylist([row], schema=DOMAIN_SETTINGS_SCHEMA),
        schema=DOMAIN_SETTINGS_SCHEMA,
    )
    return row


def read_domain_settings(wh: Warehouse, domain: str) -> DomainSettings:
    """The settings recorded for `domain`; the defaults when none were (an older warehouse)."""
    if not wh.table_exists(DOMAIN_SETTINGS_TABLE):
        return DomainSettings()
    rows = wh.query(
        f"SELECT settings FROM {DOMAIN_SETTINGS_TABLE} WHERE domain = $domain", {"domain": domain}
    )
    if rows.height == 0:
        return DomainSettings()
    return DomainSettings.model_validate_json(rows["settings"][0])


def recorded_domain_settings(wh: Warehouse) -> dict[str, dict]:
    """domain -> {time_zone and the settings the file declares, source_file, sha256} of every
    recorded domain (for the manifest)."""
    if not wh.table_exists(DOMAIN_SETTINGS_TABLE):
        return {}
    rows = wh.query(f"SELECT * FROM {DOMAIN_SETTINGS_TABLE} ORDER BY domain")
    return {
        r["domain"]: {
            **DomainSettings.model_validate_json(r["settings"]).declared(),
            "source_file": r["source_file"],
            "sha256": r["sha256"],
        }
        for r in rows.iter_rows(named=True)
    }
