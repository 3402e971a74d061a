"""Dagster's standard table metadata for the assets that write a table, from the schema code.

- On the definition (`table_spec`): `dagster/table_name` and `dagster/column_schema` (a
  TableSchema built from the table's pyarrow schema in `schemas/` or beside its step), so the
  catalog's Columns section is filled before anything ran.
- On each materialization (`table_metadata`): `dagster/row_count` (rows of the whole table, every
  domain) and, for a partitioned asset, `dagster/partition_row_count` (the domain's rows), with
  the table name and column schema again.

Kinds (the UI's badges) say what an asset runs on: `duckdb` (a warehouse table), `parquet` (its
rows live in Parquet files), `openai` (an OpenAI-protocol endpoint may label it),
`great_expectations` (a GX suite checks it).
"""

from __future__ import annotations

import pyarrow as pa
from dagster import MetadataValue, TableColumn, TableColumnConstraints, TableRecord, TableSchema

from core.sql import quote_ident

TABLE_NAME = "dagster/table_name"
COLUMN_SCHEMA = "dagster/column_schema"
ROW_COUNT = "dagster/row_count"
PARTITION_ROW_COUNT = "dagster/partition_row_count"

# The warehouse's DuckDB catalog and schema: table names are qualified as `warehouse.main.<t>`.
WAREHOUSE_SCHEMA = "warehouse.main"


def _type_name(dtype: pa.DataType) -> str:
    if pa.types.is_struct(dtype):
        inner = ", ".join(f"{f.name}: {_type_name(f.type)}" for f in dtype)
        return f"struct<{inner}>"
    if pa.types.is_list(dtype) or pa.types.is_large_list(dtype):
        return f"list<{_type_name(dtype.value_type)}>"
    if pa.types.is_map(dtype):
        return f"map<{_type_name(dtype.key_type)}, {_type_name(dtype.item_type)}>"
    return str(dtype)


def column_schema(schema: pa.Schema) -> TableSchema:
    """A Dagster TableSchema of a pyarrow schema: one column per field, nested types spelled
    out, nullability as a constraint, the field's `description` metadata when it has one."""
    columns = []
    for f in schema:
        description = None
        if f.metadata and b"description" in f.metadata:
            description = f.metadata[b"description"].decode("utf-8")
        columns.append(
            TableColumn(
                name=f.name,
                type=_type_name(f.type),
                description=description,
                constraints=None if f.nullable else TableColumnConstraints(nullable=False),
            )
        )
    return TableSchema(columns=columns)


def qualified(table: str) -> str:
    return f"{WAREHOUSE_SCHEMA}.{table}"


def table_spec(table: str, schema: pa.Schema) -> dict:
    """Definition metadata of an asset that writes `table` with `schema`."""
    return {TABLE_NAME: qualified(table), COLUMN_SCHEMA: column_schema(schema)}


def table_metadata(
    wh, table: str, schema: pa.Schema, partition_rows: int | None = None, rows: int | None = None
) -> dict:
    """Materialization metadata: the whole table's row count (counted in the warehouse unless
    given), the partition's rows when partitioned, name and columns."""
    if rows is None:
        rows = (
            int(wh.query(f"SELECT count(*) AS n FROM {quote_ident(table)}")["n"][0])
            if wh.table_exists(table)
            else 0
        )
    metadata = {ROW_COUNT: int(rows), **table_spec(table, schema)}
    if partition_rows is not None:
        metadata[PARTITION_ROW_COUNT] = int(partition_rows)
    return metadata


def records_table(rows: list[dict], columns: dict[str, str]) -> MetadataValue:
    """A `MetadataValue.table` of `rows` (dicts) with `columns` (name -> type: string, int...)."""
    return MetadataValue.table(
        records=[TableRecord({c: row.get(c) for c in columns}) for row in rows],
        schema=TableSchema(columns=[TableColumn(name=c, type=t) for c, t in columns.items()]),
    )
