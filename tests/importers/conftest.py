"""Importer tests: real public samples (skipped cleanly when the shared folder is absent) and
small fixtures written in code in the published layouts; every drop is ingested for real."""

from __future__ import annotations

from pathlib import Path

import pytest

from assets.ingest.table import IngestResult, ingest_table
from core.warehouse import Warehouse
from schemas.logs import CONTRACT_TABLES

PUBLIC = Path(__file__).resolve().parents[3] / "shared" / "data" / "public"
if not PUBLIC.is_dir():  # the worktree may sit anywhere; the session keeps the data here
    PUBLIC = Path("/work/shared/data/public")


def public_sample(*parts: str) -> Path:
    path = PUBLIC.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"public sample {path} absent")
    return path


def ingest_drop(logs_root: Path, domain: str, wh: Warehouse) -> dict[str, IngestResult]:
    """Every contract table of the domain, in dependency order, through the real ingest."""
    return {
        name: ingest_table(wh, logs_root, domain, table, "importer-test-key")
        for name, table in CONTRACT_TABLES.items()
    }


def quarantined(results: dict[str, IngestResult]) -> dict[str, int]:
    return {t: r.quarantined for t, r in results.items() if r.quarantined}
