"""The raw-log contract (../shared/spec/raw-logs.md) and the warehouse tables ingest writes.

For each contract table: the required and optional columns with the types they are cast to, and
the key that must be unique. Ingest adds bookkeeping columns, moves unknown columns into `extra`,
and replaces `user_id` with `user_id_hash` (a keyed hash; the raw id never reaches the warehouse).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

TS = pa.timestamp("us")  # naive UTC


@dataclass(frozen=True)
class ContractTable:
    name: str
    required: dict[str, pa.DataType]
    optional: dict[str, pa.DataType] = field(default_factory=dict)
    key: tuple[str, ...] = ()
    # Columns holding free text that ingest masks for personal data.
    free_text: tuple[str, ...] = ()
    # (column, referenced table, referenced column): rows pointing nowhere are quarantined.
    references: tuple[tuple[str, str, str], ...] = ()

    @property
    def columns(self) -> dict[str, pa.DataType]:
        return {**self.required, **self.optional}

    @property
    def warehouse_table(self) -> str:
        return f"raw_{self.name}"

    def warehouse_schema(self) -> pa.Schema:
        """Columns of the warehouse table: contract columns (user ids hashed) + bookkeeping."""
        fields = [pa.field("domain", pa.string(), nullable=False)]
        for name, dtype in self.columns.items():
            if name == "user_id":
                fields.append(pa.field("user_id_hash", pa.string()))
            else:
                fields.append(pa.field(name, dtype))
        fields += [
            pa.field("extra", pa.map_(pa.string(), pa.string())),
            pa.field("source_file", pa.string()),
            pa.field("source_row", pa.int64()),
        ]
        return pa.schema(fields)


# Real catalogs often lack titles, categories or prices (an orders log has ids only): an item
# needs only its id. What a missing column costs is stated per dimension by the capability
# preflight (assets/ingest/capabilities.py): no title, no text for relevance; no price, no price facts.
ITEMS = ContractTable(
    name="items",
    required={"item_id": pa.string()},
    optional={
        "title": pa.string(),
        "category": pa.string(),
        "price": pa.float64(),
        "description": pa.string(),
        "tags": pa.list_(pa.string()),
        "rating": pa.float64(),
        "review_count": pa.int64(),
        "city": pa.string(),
        "district": pa.string(),
        "lat": pa.float64(),
        "lon": pa.float64(),
        "opening_hours": pa.string(),
        "attributes": pa.string(),  # JSON object text
    },
    key=("item_id",),
)

USERS = ContractTable(
    name="users",
    required={"user_id": pa.string()},
    optional={
        "city": pa.string(),
        "age_band": pa.string(),
        "gender": pa.string(),
        "member_level": pa.string(),
        "preferences": pa.string(),  # JSON object text
    },
    key=("user_id",),
)

REQUESTS = ContractTable(
    name="requests",
    # No query (clicks or orders without search): no query-item relevance entry is made from it.
    required={"request_id": pa.string(), "user_id": pa.string(), "ts": TS},
    optional={
        "query": pa.string(),
        "city": pa.string(),
        "lat": pa.float64(),
        "lon": pa.float64(),
        "scene": pa.string(),
        "channel": pa.string(),
    },
    key=("request_id",),
    free_text=("query",),
)

IMPRESSIONS = ContractTable(
    name="impressions",
    required={"request_id": pa.string(), "item_id": pa.string(), "position": pa.int32()},
    optional={"ts": TS},
    key=("request_id", "item_id"),
    references=(("request_id", "requests", "request_id"), ("item_id", "items", "item_id")),
)

EVENTS = ContractTable(
    name="events",
    required={
        "request_id": pa.string(),
        "user_id": pa.string(),
        "item_id": pa.string(),
        "ts": TS,
        "event_type": pa.string(),
    },
    optional={"amount": pa.float64()},
    key=("request_id", "item_id", "ts", "event_type"),
    references=(("request_id", "requests", "request_id"), ("item_id", "items", "item_id")),
)

AGENT_TURNS = ContractTable(
    name="agent_turns",
    required={
        "turn_id": pa.string(),
        "request_id": pa.string(),
        "instruction": pa.string(),
        "response": pa.string(),
        "retrieved_item_ids": pa.list_(pa.string()),
    },
    optional={"constraints": pa.string(), "model": pa.string(), "latency_ms": pa.int64()},
    key=("turn_id",),
    free_text=("instruction", "response"),
    references=(("request_id", "requests", "request_id"),),
)

ANNOTATIONS = ContractTable(
    name="annotations",
    required={
        "query": pa.string(),
        "item_id": pa.string(),
        "label": pa.int8(),
        "annotator": pa.string(),
    },
    optional={"note": pa.string()},
    key=("query", "item_id", "annotator"),
    free_text=("query", "note"),
    references=(("item_id", "items", "item_id"),),
)

# In dependency order: referenced tables come first.
CONTRACT_TABLES: dict[str, ContractTable] = {
    t.name: t for t in (ITEMS, USERS, REQUESTS, IMPRESSIONS, EVENTS, AGENT_TURNS, ANNOTATIONS)
}
# Tables every domain drop must have; the others may be absent, and the capability preflight
# (assets/ingest/capabilities.py) says which dimensions the tables present support: without requests
# and events no behaviour, without impressions no logged negatives, without queries or
# annotations no relevance, without agent turns no instruction following or factual consistency.
REQUIRED_TABLES = ("items",)
EVENT_TYPES = ("click", "add_to_cart", "favorite", "order")
FILE_SUFFIXES = (".parquet", ".csv", ".csv.gz", ".jsonl", ".jsonl.gz", ".json", ".json.gz")

# An empty file written last into a domain folder when its drop is complete: the new-domain
# sensor builds a folder only once it holds this marker (a half-copied drop is not built).
# It is never read as a log file.
COMPLETE_MARKER = "_SUCCESS"

QUARANTINE_TABLE = "quarantine"
QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("domain", pa.string(), nullable=False),
        pa.field("table_name", pa.string()),
        pa.field("source_file", pa.string()),
        pa.field("source_row", pa.int64()),  # 1-based line (CSV/JSONL, after the header) or row
        pa.field("reason", pa.string()),
        pa.field("raw", pa.string()),  # the offending record as text, personal data masked
    ]
)
