"""The warehouse rows of one table: accepted records in the contract's types, user ids hashed,
text masked, unknown fields kept in `extra`, and where each row came from."""

from __future__ import annotations

import pyarrow as pa

from assets.ingest.privacy import hashed, is_id, is_user_id, masked, stored_name, stored_text
from core.sql import quote_ident, sql_literal
from schemas.logs import ContractTable


def _contract_value(col: str, dtype: pa.DataType) -> str:
    typed = quote_ident("_t_" + col)
    if is_user_id(col):
        return hashed(typed)
    if pa.types.is_string(dtype) and not is_id(col):
        return masked(typed)
    if pa.types.is_list(dtype) and not is_id(col):
        return f"list_transform({typed}, lambda x: {masked('x')})"
    return typed


def extra_sql(extra_columns: list[str]) -> str:
    """MAP(VARCHAR, VARCHAR) of the fields outside the contract (NULL values left out)."""
    if not extra_columns:
        return "MAP {}::MAP(VARCHAR, VARCHAR)"
    entries = ", ".join(
        f"struct_pack(k := {sql_literal(stored_name(c))}, v := {stored_text(c, quote_ident(c))})"
        for c in extra_columns
    )
    return (
        f"map_from_entries(list_filter([{entries}], lambda e: e.v IS NOT NULL))"
        "::MAP(VARCHAR, VARCHAR)"
    )


def accepted_sql(target: str, table: ContractTable, extra_columns: list[str]) -> str:
    """SELECT of the accepted rows in `table.warehouse_schema()` layout (`$domain`, `$hash_key`)."""
    values = ", ".join(
        f"{_contract_value(c, t)} AS {quote_ident(stored_name(c))}"
        for c, t in table.columns.items()
    )
    return f"""
        SELECT $domain AS domain, {values}, {extra_sql(extra_columns)} AS extra,
               _file AS source_file, _row AS source_row
        FROM {target} WHERE _reason IS NULL
        ORDER BY _file_idx, _row
    """
