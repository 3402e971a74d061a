"""A generated drop (loggen, with its truth) ingested and staged into a warehouse by the plain
functions of the ingest and staging layers: the fixture of tests that measure labels and splits
against the generator's truth. Loaded by path from the conftest files that use it."""

from __future__ import annotations

import logging
from pathlib import Path

from assets.ingest.domain_settings import ingest_domain_settings
from assets.ingest.table import ingest_table
from assets.staging.assets import STAGING_STEPS, HistoryConfig
from assets.steps.contract import BuildContext
from core.settings import Settings
from core.warehouse import Warehouse
from loggen.config import GeneratorConfig
from loggen.generate import generate
from schemas.logs import CONTRACT_TABLES

DOMAINS = ("food_delivery", "hotel", "movie_tickets")


def build_generated_warehouse(root: Path, seed: int, users: int = 240, days: int = 12):
    """(warehouse, logs root) of a fresh drop generated with `seed`, ingested and staged."""
    logs = root / "logs"
    generate(GeneratorConfig(domains=DOMAINS, users=users, days=days, seed=seed), logs)
    wh = Warehouse(root / "wh.duckdb")
    ctx = BuildContext(Settings(), logging.getLogger("recrm.steps"), config=HistoryConfig())
    for domain in DOMAINS:
        ingest_domain_settings(wh, logs, domain)
        for table in CONTRACT_TABLES.values():
            ingest_table(wh, logs, domain, table, "test-key")
        for step in STAGING_STEPS:  # the staging steps themselves, without Dagster
            step.run(ctx, wh, domain)
    return wh, logs
