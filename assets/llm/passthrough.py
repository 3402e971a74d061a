"""The judged table as the entries table unchanged: the layer with the LLM off or no judge.

A dimension some judge covers gets a per-domain copy (a later run with the LLM on replaces that
domain's rows). A dimension no judge covers (behaviour, ranking: ~1M wide rows at paper scale)
is never changed by this layer, so `judged_<dim>` is a view over `entries_<dim>` instead of a
second copy of every byte: each domain's rows are always exactly its entries.
"""

from __future__ import annotations

from core.warehouse import Warehouse, WarehouseError
from schemas.entries import entries_table, entry_schema
from schemas.tables import judged_table


def _require_entries(warehouse: Warehouse, dimension: str, domain: str) -> str:
    source = entries_table(dimension)
    if not warehouse.table_exists(source):
        raise WarehouseError(
            f"table {source} does not exist: materialize [{dimension}, entries] for {domain} first"
        )
    return source


def view_entries(warehouse: Warehouse, dimension: str, domain: str) -> int:
    """Make `judged_<dim>` a view over `entries_<dim>` (in entry schema column order), replacing
    a copy left by an earlier build; returns the domain's rows."""
    source = _require_entries(warehouse, dimension, domain)
    target = judged_table(dimension)
    columns = ", ".join(f'"{n}"' for n in entry_schema(dimension).names)
    warehouse.replace_with_view(target, f'SELECT {columns} FROM "{source}"')
    rows = warehouse.count(target, domain)
    return rows


def copy_entries(
    warehouse: Warehouse, dimension: str, domain: str, leave_out: str | None = None
) -> tuple[int, int]:
    """Replace the domain's rows of `judged_<dim>` with its rows of `entries_<dim>`, except those
    matching the SQL predicate `leave_out` (labels no rule could decide, with no judge to);
    returns (rows copied, rows left out)."""
    source = _require_entries(warehouse, dimension, domain)
    keep = f" AND NOT coalesce({leave_out}, false)" if leave_out else ""
    rows = warehouse.write_partition_files(
        judged_table(dimension),
        domain,
        [f'SELECT * FROM "{source}" WHERE domain = $domain{keep}'],
        entry_schema(dimension),
        params={"domain": domain},
    )
    return rows, warehouse.count(source, domain) - rows
