"""The staging tables: names and pyarrow schemas, and how staging SQL refers to raw tables.

Optional contract tables (`users`, `annotations`) may never have been ingested; SQL that reads them
goes through `raw_source`, which stands in an empty, correctly typed relation when the table is
absent, so a domain without users still builds (with empty user profiles).
"""

from __future__ import annotations

import pyarrow as pa

from core.warehouse import Warehouse
from schemas.entries import HISTORY_EVENT, ITEM, TS
from schemas.logs import CONTRACT_TABLES

STG_REQUEST_ITEMS = "stg_request_items"
STG_USER_HISTORIES = "stg_user_histories"
STG_ITEM_PROFILES = "stg_item_profiles"

# One row per (request, shown item): the impression joined to the events it drew.
REQUEST_ITEMS_SCHEMA = pa.schema(
    [
        pa.field("domain", pa.string(), nullable=False),
        pa.field("request_id", pa.string()),
        pa.field("user_id_hash", pa.string()),
        pa.field("request_ts", TS),
        pa.field("query", pa.string()),
        pa.field("city", pa.string()),
        pa.field("lat", pa.float64()),
        pa.field("lon", pa.float64()),
        pa.field("scene", pa.string()),
        pa.field("item_id", pa.string()),
        pa.field("position", pa.int32()),
        pa.field("clicked", pa.bool_()),
        pa.field("ordered", pa.bool_()),
        pa.field("engagement", pa.int8()),  # 0 shown, 1 clicked (or any non-order event), 2 ordered
        pa.field("first_event_ts", TS),
        pa.field("source_row_id", pa.string()),  # raw_impressions:<file>:<row>
    ]
)

# One row per request: the user's last K events strictly before the request.
USER_HISTORIES_SCHEMA = pa.schema(
    [
        pa.field("domain", pa.string(), nullable=False),
        pa.field("request_id", pa.string()),
        pa.field("user_id_hash", pa.string()),
        pa.field("request_ts", TS),
        pa.field("history", pa.list_(HISTORY_EVENT)),  # oldest first
        pa.field("history_len", pa.int32()),
    ]
)

# One row per item: the ITEM struct every dimension shows.
ITEM_PROFILES_SCHEMA = pa.schema(
    [
        pa.field("domain", pa.string(), nullable=False),
        pa.field("item_id", pa.string()),
        pa.field("title", pa.string()),
        pa.field("category", pa.string()),
        pa.field("item", ITEM),
    ]
)

_DUCKDB_TYPES = {
    pa.string(): "VARCHAR",
    pa.float64(): "DOUBLE",
    pa.int64(): "BIGINT",
    pa.int32(): "INTEGER",
    pa.int8(): "TINYINT",
    pa.bool_(): "BOOLEAN",
    TS: "TIMESTAMP",
    pa.list_(pa.string()): "VARCHAR[]",
    pa.map_(pa.string(), pa.string()): "MAP(VARCHAR, VARCHAR)",
}


def raw_source(warehouse: Warehouse, table: str) -> str:
    """SQL relation for contract table `table`: `raw_<table>`, or an empty typed stand-in."""
    contract = CONTRACT_TABLES[table]
    name = contract.warehouse_table
    if warehouse.table_exists(name):
        return f'"{name}"'
    cols = ", ".join(
        f'CAST(NULL AS {_DUCKDB_TYPES[f.type]}) AS "{f.name}"' for f in contract.warehouse_schema()
    )
    return f"(SELECT {cols} LIMIT 0)"


def require_raw(warehouse: Warehouse, tables: tuple[str, ...], domain: str) -> None:
    """Fail clearly when a required raw table has not been ingested."""
    missing = [t for t in tables if not warehouse.table_exists(CONTRACT_TABLES[t].warehouse_table)]
    if missing:
        names = ", ".join(CONTRACT_TABLES[t].warehouse_table for t in missing)
        raise RuntimeError(
            f"staging for domain {domain}: warehouse has no {names}; materialize the ingest first"
        )
