"""Build `benchmark_<dim>` from `judged_<dim>` (all domains) in the warehouse, and describe it."""

from __future__ import annotations

from assets.benchmark.select import (
    allocate,
    dedup_keys_sql,
    duplicate_ids_sql,
    group_counts_sql,
    selection_sql,
)
from assets.dimensions.common.labels import label_distribution
from core.sql import quote_ident
from core.warehouse import Warehouse, WarehouseError
from schemas.entries import entry_schema
from schemas.tables import benchmark_table, judged_table


def dedup_table(dimension: str) -> str:
    """Dedup keys of judged_<dim> (`select.dedup_keys_sql`), kept for inspection."""
    return f"stg_dedup_{dimension}"


def build_benchmark(wh: Warehouse, dimension: str, count: int | None, seed: int) -> dict:
    """Deduplicate and select judged_<dim> into benchmark_<dim>; returns the asset metadata."""
    source_name = judged_table(dimension)
    if not wh.table_exists(source_name):
        raise WarehouseError(
            f"table {source_name} does not exist: materialize [{dimension}, judged] for every "
            "domain first"
        )
    source = quote_ident(source_name)
    dup = wh.query(duplicate_ids_sql(source))
    if dup.height:
        raise WarehouseError(f"{source_name}: entry_id is not unique per domain: {dup.rows()}")
    keys = dedup_table(dimension)
    wh.write_table(keys, dedup_keys_sql(source), ordered=False)
    groups = wh.query(group_counts_sql(quote_ident(keys)))
    quotas = allocate(groups, dimension, count)
    # Written once by DuckDB as Parquet (`core.file_tables`); the release sorts by entry_id.
    rows = wh.write_table_files(
        benchmark_table(dimension),
        [selection_sql(source, quote_ident(keys), dimension, seed, quotas)],
        entry_schema(dimension),
    )
    return {"rows": int(rows), **describe(wh, dimension, groups)}


def describe(wh: Warehouse, dimension: str, groups) -> dict:
    target = quote_ident(benchmark_table(dimension))

    def counts(sql: str) -> dict[str, int]:
        return {str(k): int(n) for k, n in wh.query(sql).iter_rows()}

    return {
        "rows_per_split": counts(f"SELECT split, count(*) FROM {target} GROUP BY 1 ORDER BY 1"),
        "label_distribution": _labels(wh, target, dimension),
        "rows_per_domain": counts(f"SELECT domain, count(*) FROM {target} GROUP BY 1 ORDER BY 1"),
        "available_after_dedup": int(groups["available"].sum()) if groups.height else 0,
        "duplicates_removed": int((groups["total"] - groups["available"]).sum())
        if groups.height
        else 0,
    }


def _labels(wh: Warehouse, target: str, dimension: str) -> dict[str, int]:
    with wh.connect(read_only=True) as con:
        return label_distribution(con, target, dimension)
