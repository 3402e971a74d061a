"""The judged table as an exact copy of the entries table: the layer with the LLM off."""

from __future__ import annotations

from core.warehouse import Warehouse, WarehouseError
from schemas.entries import entries_table, entry_schema


def judged_table(dimension: str) -> str:
    """Name of the warehouse table holding a dimension's entries after the LLM-judge layer."""
    return f"judged_{dimension}"


def copy_entries(warehouse: Warehouse, dimension: str, domain: str) -> int:
    """Replace the domain's rows of `judged_<dim>` with its rows of `entries_<dim>`; returns rows."""
    source = entries_table(dimension)
    if not warehouse.table_exists(source):
        raise WarehouseError(
            f"table {source} does not exist: materialize [{dimension}, entries] for {domain} first"
        )
    return warehouse.write_partition(
        judged_table(dimension),
        domain,
        f'SELECT * FROM "{source}" WHERE domain = $domain',
        params={"domain": domain},
        schema=entry_schema(dimension),
    )
