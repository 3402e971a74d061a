"""The staging tables' names and pyarrow schemas (request sessions, user histories, item
profiles); registered with their producers in `schemas/tables.py`."""

from __future__ import annotations

import pyarrow as pa

from schemas.entries import HISTORY_EVENT, ITEM, TS

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
