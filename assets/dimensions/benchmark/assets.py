"""Dagster definitions of the five `[<dimension>, "benchmark"]` assets (group `benchmark`, not
partitioned): judged_<dim> of every domain -> deduplicated, selected benchmark_<dim>."""

from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, MaterializeResult, asset

from assets.dimensions.benchmark.build import benchmark_table, build_benchmark, judged_table
from assets.resources import BuildSettings, WarehouseResource
from assets.table_metadata import table_metadata, table_spec
from schemas.entries import DIMENSIONS, entry_schema
from schemas.profiles import get_profile


def _benchmark_asset(dimension: str) -> AssetsDefinition:
    @asset(
        key=AssetKey([dimension, "benchmark"]),
        group_name="benchmark",
        deps=[AssetKey([dimension, "judged"])],
        description=(
            f"`{judged_table(dimension)}` of all domains, deduplicated and selected to the size "
            f"profile -> `{benchmark_table(dimension)}`"
        ),
        kinds={"duckdb", "parquet", "great_expectations"},
        metadata=table_spec(benchmark_table(dimension), entry_schema(dimension)),
    )
    def _benchmark(
        context: AssetExecutionContext, warehouse: WarehouseResource, build: BuildSettings
    ) -> MaterializeResult:
        settings = build.settings(warehouse_path=warehouse.path)
        profile = get_profile(settings.profile)
        count = profile.counts.get(dimension)
        with warehouse.session() as wh:
            metadata = build_benchmark(wh, dimension, count, settings.seed)
            metadata.update(
                table_metadata(
                    wh, benchmark_table(dimension), entry_schema(dimension), None, metadata["rows"]
                )
            )
        metadata["profile"] = profile.name
        metadata["asked"] = "all" if count is None else int(count)
        return MaterializeResult(metadata=metadata)

    return _benchmark


BENCHMARK_ASSETS = [_benchmark_asset(d) for d in DIMENSIONS]
