"""The Dagster `[<dimension>, "entries"]` asset for a log-derived dimension: read the build
settings, call the dimension's plain function that builds and writes the domain's rows of
entries_<dim>, report rows and distributions."""

from collections.abc import Callable

from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, MaterializeResult, asset

from assets.partitions import DOMAINS, domain_key
from assets.resources import BuildSettings, WarehouseResource
from assets.table_metadata import table_metadata, table_spec
from core.warehouse import Warehouse
from schemas.entries import entries_table, entry_schema
from schemas.profiles import SizeProfile, get_profile

# (warehouse, domain, build seed, size profile) -> metadata of the written entries (with `rows`).
WriteFn = Callable[[Warehouse, str, int, SizeProfile], dict]


def entries_asset(
    dimension: str, write_fn: WriteFn, deps: list[AssetKey], description: str
) -> AssetsDefinition:
    @asset(
        key=AssetKey([dimension, "entries"]),
        group_name=dimension,
        deps=deps,
        partitions_def=DOMAINS,
        description=f"{description} -> `{entries_table(dimension)}`",
        kinds={"duckdb", "parquet"},
        metadata=table_spec(entries_table(dimension), entry_schema(dimension)),
    )
    def _entries(
        context: AssetExecutionContext, warehouse: WarehouseResource, build: BuildSettings
    ) -> MaterializeResult:
        domain = domain_key(context)
        with warehouse.session() as wh:
            settings = build.settings(warehouse_path=warehouse.path)
            profile = get_profile(settings.profile)
            metadata = write_fn(wh, domain, settings.seed, profile)
            table, schema = entries_table(dimension), entry_schema(dimension)
            standard = table_metadata(wh, table, schema, metadata.get("rows"))
            return MaterializeResult(metadata={**metadata, **standard})

    return _entries


STAGING = [AssetKey(["staging", n]) for n in ("request_items", "user_histories", "item_profiles")]
