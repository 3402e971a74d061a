"""Write one domain's staging tables (plain functions: the staging steps call them)."""

from __future__ import annotations

from assets.ingest.domain_settings import read_domain_settings
from assets.staging.histories import DEFAULT_HISTORY_K, user_histories_sql
from assets.staging.items import item_profiles_sql
from assets.staging.negatives import sampled_impressions_sql
from assets.staging.sessions import request_items_sql
from assets.staging.tables import require_raw
from core.warehouse import Warehouse
from schemas.staging import (
    ITEM_PROFILES_SCHEMA,
    REQUEST_ITEMS_SCHEMA,
    STG_ITEM_PROFILES,
    STG_REQUEST_ITEMS,
    STG_USER_HISTORIES,
    USER_HISTORIES_SCHEMA,
)


def stage_item_profiles(wh: Warehouse, domain: str) -> int:
    require_raw(wh, ("items",), domain)
    return wh.write_partition(
        STG_ITEM_PROFILES, domain, item_profiles_sql(), {"domain": domain}, ITEM_PROFILES_SCHEMA
    )


def stage_request_items(wh: Warehouse, domain: str) -> int:
    require_raw(wh, ("requests", "impressions", "events"), domain)
    settings = read_domain_settings(wh, domain)
    sql = request_items_sql(signals=settings.signals)
    sampling = settings.negatives
    if sampling.per_request and not wh.count("raw_impressions", domain):
        # No impressions logged: engaged items plus sampled negatives (staging/negatives.py).
        sampled = sampled_impressions_sql(sampling.per_request, sampling.seed)
        sql = request_items_sql(impressions=f"({sampled})", signals=settings.signals)
    # Stored in any order (request_items_sql says why).
    return wh.write_partition(
        STG_REQUEST_ITEMS, domain, sql, {"domain": domain}, REQUEST_ITEMS_SCHEMA, ordered=False
    )


def stage_user_histories(wh: Warehouse, domain: str, k: int = DEFAULT_HISTORY_K) -> int:
    require_raw(wh, ("requests", "events", "items"), domain)
    return wh.write_partition(
        STG_USER_HISTORIES, domain, user_histories_sql(k), {"domain": domain},
        USER_HISTORIES_SCHEMA, ordered=False,
    )  # fmt: skip
