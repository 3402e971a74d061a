"""The Dagster chain of an agent-transcript dimension (per domain):
[<dim>, labelled] -> [<dim>, synthetic] -> [<dim>, entries]. Each dimension passes its own plain
functions (rule labels, synthesis, entry assembly, metadata) and step-table layout."""

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl
import pyarrow as pa
from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, MaterializeResult, asset

from assets.dimensions.common.entries import finalize_entries, write_entries
from assets.dimensions.common.provenance import provenance_params
from assets.dimensions.common.splits import domain_split
from assets.dimensions.common.wording import domain_template
from assets.dimensions.factual_consistency.turns import generated_turn_counts, load_turns
from assets.partitions import DOMAINS, domain_key
from assets.resources import BuildSettings, WarehouseResource
from assets.table_metadata import table_metadata, table_spec
from core.warehouse import Warehouse
from schemas.entries import entries_table, entry_schema
from schemas.profiles import get_profile

INGEST = [AssetKey(["ingest", t]) for t in ("agent_turns", "requests", "items")]
# Turns the LLM layer generated for requests without one (empty table when it is off).
GENERATED_TURNS = AssetKey(["instruction_following", "generated_turns"])


@dataclass(frozen=True)
class TranscriptDimension:
    """One transcript dimension's plain functions and step-table layout (see its build.py)."""

    name: str
    step_schema: pa.Schema
    label_turns: Callable[[pl.DataFrame], tuple[pl.DataFrame, dict]]
    synthesize: Callable[[pl.DataFrame, int, float], tuple[pl.DataFrame, dict]]
    assemble_entries: Callable[..., pl.DataFrame]
    describe: Callable[[pl.DataFrame], dict]
    # What the labelled step does: "<how turns are labelled> -> <table>".
    labelled_description: str
    # What the synthetic step does: "<what is planted> -> <table>".
    synthetic_description: str
    # stats of label_turns -> a warning to log, or None.
    label_warning: Callable[[dict], str | None] = lambda stats: None

    @property
    def labelled_table(self) -> str:
        return f"{self.name}_labelled"

    @property
    def synthetic_table(self) -> str:
        return f"{self.name}_synthetic"

    def write(self, wh: Warehouse, table: str, domain: str, frame: pl.DataFrame) -> int:
        source = self.step_schema.empty_table() if frame.height == 0 else frame.to_arrow()
        return wh.write_partition(table, domain, source, schema=self.step_schema)


def _read(wh: Warehouse, table: str, domain: str) -> pl.DataFrame:
    return wh.read_partition(table, domain) if wh.table_exists(table) else pl.DataFrame()


def transcript_assets(
    dim: TranscriptDimension,
) -> tuple[AssetsDefinition, AssetsDefinition, AssetsDefinition]:
    """The (labelled, synthetic, entries) assets of `dim`."""
    name = dim.name

    @asset(
        key=AssetKey([name, "labelled"]),
        group_name=name,
        deps=[*INGEST, GENERATED_TURNS],
        partitions_def=DOMAINS,
        description=f"{dim.labelled_description} -> `{dim.labelled_table}`",
        kinds={"duckdb"},
        metadata=table_spec(dim.labelled_table, dim.step_schema),
    )
    def labelled(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
        with warehouse.session() as wh:
            domain = domain_key(context)
            turns = load_turns(wh, domain)
            frame, stats = dim.label_turns(turns)
            generated = generated_turn_counts(turns, frame)
            if frame.height:
                frame = frame.with_columns(pl.lit(domain).alias("domain"))
            rows = dim.write(wh, dim.labelled_table, domain, frame)
            warning = dim.label_warning(stats)
            if warning:
                context.log.warning(warning)
            standard = table_metadata(wh, dim.labelled_table, dim.step_schema, rows)
            return MaterializeResult(
                metadata={**dim.describe(frame), **stats, **generated, "rows": rows, **standard}
            )

    @asset(
        key=AssetKey([name, "synthetic"]),
        group_name=name,
        deps=[AssetKey([name, "labelled"])],
        partitions_def=DOMAINS,
        description=f"{dim.synthetic_description} -> `{dim.synthetic_table}`",
        kinds={"duckdb"},
        metadata=table_spec(dim.synthetic_table, dim.step_schema),
    )
    def synthetic(
        context: AssetExecutionContext, warehouse: WarehouseResource, build: BuildSettings
    ) -> MaterializeResult:
        with warehouse.session() as wh:
            domain = domain_key(context)
            settings = build.settings(warehouse_path=warehouse.path)
            ratio = get_profile(settings.profile).positive_ratio[name]
            frame, stats = dim.synthesize(
                _read(wh, dim.labelled_table, domain), settings.seed, ratio
            )
            rows = dim.write(wh, dim.synthetic_table, domain, frame)
            standard = table_metadata(wh, dim.synthetic_table, dim.step_schema, rows)
            return MaterializeResult(
                metadata={**dim.describe(frame), **stats, "rows": rows, **standard}
            )

    @asset(
        key=AssetKey([name, "entries"]),
        group_name=name,
        deps=[AssetKey([name, "labelled"]), AssetKey([name, "synthetic"])],
        partitions_def=DOMAINS,
        description=(
            f"deduplicated, balanced, rendered and split entries -> `{entries_table(name)}`"
        ),
        kinds={"duckdb", "parquet"},
        metadata=table_spec(entries_table(name), entry_schema(name)),
    )
    def entries(
        context: AssetExecutionContext, warehouse: WarehouseResource, build: BuildSettings
    ) -> MaterializeResult:
        with warehouse.session() as wh:
            domain = domain_key(context)
            settings = build.settings(warehouse_path=warehouse.path)
            profile = get_profile(settings.profile)
            template = domain_template(wh, name, domain)
            frame = dim.assemble_entries(
                _read(wh, dim.labelled_table, domain),
                _read(wh, dim.synthetic_table, domain),
                domain,
                settings.seed,
                profile.positive_ratio[name],
                provenance_params(wh, domain, name, template),
            )
            summary = dim.describe(frame)
            held_out = 0
            if frame.height:
                split = domain_split(wh, domain, settings.seed, profile.split_fractions)
                # the turn's time (its request's) decides the split window with its user
                out, held_out = finalize_entries(frame, name, template, split, time_column="ts")
            else:
                out = pl.from_arrow(entry_schema(name).empty_table())
            metadata = write_entries(wh, name, domain, out, held_out)
            standard = table_metadata(
                wh, entries_table(name), entry_schema(name), metadata.get("rows")
            )
            return MaterializeResult(metadata={**summary, **metadata, **standard})

    return labelled, synthetic, entries
