"""Dagster definitions of the staging layer: request sessions, user histories, item profiles.

Each asset runs one set-based SELECT over the domain's raw tables and replaces the domain's rows of
its staging table.
"""

from dagster import AssetExecutionContext, AssetKey, Config, MaterializeResult, asset

from assets.partitions import DOMAINS, domain_key
from assets.resources import WarehouseResource
from assets.staging.build import stage_item_profiles, stage_request_items, stage_user_histories
from assets.staging.histories import DEFAULT_HISTORY_K
from assets.staging.tables import (
    ITEM_PROFILES_SCHEMA,
    REQUEST_ITEMS_SCHEMA,
    STG_ITEM_PROFILES,
    STG_REQUEST_ITEMS,
    STG_USER_HISTORIES,
    USER_HISTORIES_SCHEMA,
)
from assets.table_metadata import table_metadata, table_spec


class HistoryConfig(Config):
    k: int = DEFAULT_HISTORY_K  # events kept per history (the most recent ones)


@asset(
    key=AssetKey(["staging", "item_profiles"]),
    group_name="staging",
    deps=[AssetKey(["ingest", "items"])],
    partitions_def=DOMAINS,
    description=f"ITEM struct per item -> `{STG_ITEM_PROFILES}`",
    kinds={"duckdb"},
    metadata=table_spec(STG_ITEM_PROFILES, ITEM_PROFILES_SCHEMA),
)
def item_profiles(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> MaterializeResult:
    domain = domain_key(context)
    with warehouse.session() as wh:
        rows = stage_item_profiles(wh, domain)
        standard = table_metadata(wh, STG_ITEM_PROFILES, ITEM_PROFILES_SCHEMA, rows)
    return MaterializeResult(metadata={"rows": rows, **standard})


@asset(
    key=AssetKey(["staging", "request_items"]),
    group_name="staging",
    deps=[AssetKey(["ingest", t]) for t in ("requests", "impressions", "events")],
    partitions_def=DOMAINS,
    description=f"request x shown item with clicks, orders, engagement -> `{STG_REQUEST_ITEMS}`",
    kinds={"duckdb"},
    metadata=table_spec(STG_REQUEST_ITEMS, REQUEST_ITEMS_SCHEMA),
)
def request_items(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> MaterializeResult:
    domain = domain_key(context)
    with warehouse.session() as wh:
        rows = stage_request_items(wh, domain)
        stats = wh.query(
            f"SELECT count(DISTINCT request_id) AS requests, "
            f"count(*) FILTER (WHERE engagement = 1) AS clicked, "
            f"count(*) FILTER (WHERE engagement = 2) AS ordered "
            f"FROM {STG_REQUEST_ITEMS} WHERE domain = $domain",
            {"domain": domain},
        ).row(0, named=True)
        standard = table_metadata(wh, STG_REQUEST_ITEMS, REQUEST_ITEMS_SCHEMA, rows)
        return MaterializeResult(
            metadata={"rows": rows, **{k: int(v) for k, v in stats.items()}, **standard}
        )


@asset(
    key=AssetKey(["staging", "user_histories"]),
    group_name="staging",
    deps=[AssetKey(["ingest", t]) for t in ("requests", "events", "items")],
    partitions_def=DOMAINS,
    description=f"last K events strictly before each request -> `{STG_USER_HISTORIES}`",
    kinds={"duckdb"},
    metadata=table_spec(STG_USER_HISTORIES, USER_HISTORIES_SCHEMA),
)
def user_histories(
    context: AssetExecutionContext, warehouse: WarehouseResource, config: HistoryConfig
) -> MaterializeResult:
    domain = domain_key(context)
    with warehouse.session() as wh:
        rows = stage_user_histories(wh, domain, config.k)
        mean_len = wh.query(
            f"SELECT coalesce(avg(history_len), 0) AS m FROM {STG_USER_HISTORIES} "
            "WHERE domain = $domain",
            {"domain": domain},
        )["m"][0]
        standard = table_metadata(wh, STG_USER_HISTORIES, USER_HISTORIES_SCHEMA, rows)
        return MaterializeResult(
            metadata={
                "rows": rows,
                "k": config.k,
                "mean_history_len": float(mean_len),
                **standard,
            }
        )
