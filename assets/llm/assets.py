"""Dagster definitions of the LLM layer: one `[<dimension>, "judged"]` asset per dimension.

Each reads `entries_<dim>` for its domain and writes `judged_<dim>`. With no endpoint configured
(or for a dimension no judge covers) it is a pass-through copy.
"""

from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, MaterializeResult, asset

from assets.llm.passthrough import copy_entries, judged_table
from assets.partitions import DOMAINS
from pipelines.resources import LLMResource, WarehouseResource
from schemas.entries import DIMENSIONS


def _judged_asset(dimension: str) -> AssetsDefinition:
    @asset(
        key=AssetKey([dimension, "judged"]),
        group_name=dimension,
        deps=[AssetKey([dimension, "entries"])],
        partitions_def=DOMAINS,
        description=f"entries_{dimension} after the LLM-judge layer -> {judged_table(dimension)}",
    )
    def _judged(
        context: AssetExecutionContext, warehouse: WarehouseResource, llm: LLMResource
    ) -> MaterializeResult:
        domain = context.partition_key
        rows = copy_entries(warehouse.get(), dimension, domain)
        return MaterializeResult(metadata={"rows": rows, "llm": "off"})

    return _judged


JUDGED_ASSETS = [_judged_asset(d) for d in DIMENSIONS]
