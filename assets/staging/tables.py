"""How staging SQL refers to raw tables (the staging tables' names and schemas are declared in
`schemas/staging.py` and registered in `schemas/tables.py`).

Optional contract tables (`users`, `annotations`) may never have been ingested; SQL that reads them
goes through `raw_source`, which stands in an empty, correctly typed relation when the table is
absent, so a domain without users still builds (with empty user profiles).
"""

from __future__ import annotations

import pyarrow as pa

from core.warehouse import Warehouse
from schemas.entries import TS
from schemas.logs import CONTRACT_TABLES

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
