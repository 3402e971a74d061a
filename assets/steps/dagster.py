"""The one factory from steps to Dagster assets.

`step_asset(step)` gives the asset its key, group, partitioning (by domain unless the step writes
an unpartitioned table), description, kinds and table metadata from the step, and its
dependencies from the producers of the tables the step reads (`schemas.tables.producers_of`).
The asset body builds the step's `BuildContext` from the run's resources (settings loaded once per
run), opens one warehouse session, runs the step and reports its metadata with the standard table
metadata of what it wrote. `step_check(check)` does the same for a `Check` of a step's output,
and `source_asset(source)` makes a `Source` an observable source asset.
"""

import contextlib
import warnings
from pathlib import Path

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    DataVersion,
    DataVersionsByPartition,
    MaterializeResult,
    PreviewWarning,
    asset,
    asset_check,
    observable_source_asset,
)

from assets.partitions import DOMAINS, SCORERS, domain_key
from assets.steps.contract import BuildContext, Check, Source, Step, StepKey
from assets.table_metadata import COLUMN_SCHEMA, column_schema, table_metadata, table_spec
from schemas.tables import Table, producers_of

# Observable source assets are "beta" in dagster 1.13; the warning says nothing to our users.
warnings.filterwarnings("ignore", message=".*observable_source_asset.*", category=Warning)

# The tag `recrm build` puts on every run it drives: the runs of one build share its LLM budget.
BUILD_TAG = "recrm/build"


def step_deps(step: Step) -> list[AssetKey]:
    """The asset keys of the steps that write what `step` reads (never itself)."""
    return [AssetKey(list(k)) for k in producers_of(step.reads) if k != step.key]


# A partitioned table's partitions (`Table.partition`) as Dagster's dynamic partitions.
PARTITIONS = {"domain": DOMAINS, "scorer": SCORERS}


def resource_keys(step: Step | Check | Source) -> set[str]:
    """The Dagster resources a step's run hands it."""
    return set(step.resources) | ({"llm"} if getattr(step, "uses_llm", False) else set())


def latest_metadata(instance, key: StepKey) -> dict | None:
    """The metadata values of `key`'s latest materialization (None: never materialized)."""
    event = instance.get_latest_materialization_event(AssetKey(list(key)))
    if event is None or event.asset_materialization is None:
        return None
    return {k: getattr(v, "value", v) for k, v in event.asset_materialization.metadata.items()}


def build_context(context, step: Step | Check | Source) -> BuildContext:
    resources = context.resources
    needs = resource_keys(step)
    settings = (
        resources.build.settings(
            warehouse_path=resources.warehouse.path, storage_root=resources.warehouse.storage_root
        )
        if "build" in needs
        else None
    )
    llm = resources.llm.config() if "llm" in needs else None
    results_dir = Path(resources.evaluation.results_dir) if "evaluation" in needs else None
    config_class = getattr(step, "config", None)
    config = (
        config_class(**(context.op_execution_context.op_config or {})) if config_class else None
    )
    run = context.run
    instance = context.instance
    return BuildContext(
        settings=settings,
        log=context.log,
        run_id=run.run_id,
        llm=llm,
        config=config,
        budget_scope=run.tags.get(BUILD_TAG, run.run_id),
        results_dir=results_dir,
        materialized=lambda key: latest_metadata(instance, key),
    )


def definition_metadata(writes: Table | None) -> dict | None:
    """The asset's table (a warehouse table) or its columns (files with a schema)."""
    if writes is None:
        return None
    if writes.in_warehouse:
        return table_spec(writes.name, writes.schema)
    return {COLUMN_SCHEMA: column_schema(writes.schema)} if writes.schema is not None else None


def partition_key(context, partition: str | None) -> str | None:
    if partition is None:
        return None
    return domain_key(context) if partition == "domain" else context.partition_key


def step_asset(step: Step) -> AssetsDefinition:
    """The Dagster asset of `step`."""
    writes = step.writes
    needs = resource_keys(step)

    @asset(
        key=AssetKey(list(step.key)),
        group_name=step.group,
        deps=step_deps(step),
        partitions_def=PARTITIONS[step.partition] if step.partition else None,
        description=step.description,
        kinds=set(step.kinds),
        metadata=definition_metadata(writes),
        required_resource_keys=needs,
        config_schema=step.config.to_config_schema() if step.config else None,
        pool=step.pool,
    )
    def _step(context: AssetExecutionContext) -> MaterializeResult:
        key = partition_key(context, step.partition)
        ctx = build_context(context, step)
        step.preflight(ctx)
        session = (
            context.resources.warehouse.session()
            if "warehouse" in needs
            else contextlib.nullcontext()
        )
        with session as wh:
            result = step.run(ctx, wh, key)
            standard = {}
            if writes is not None and writes.in_warehouse:
                standard = (
                    table_metadata(wh, writes.name, writes.schema, result.rows)
                    if step.partitioned
                    else table_metadata(wh, writes.name, writes.schema, None, result.rows)
                )
        return MaterializeResult(
            metadata={**result.metadata, **standard},
            data_version=DataVersion(result.data_version) if result.data_version else None,
        )

    return _step


SEVERITY = {"error": AssetCheckSeverity.ERROR, "warn": AssetCheckSeverity.WARN}


def step_check(check: Check) -> AssetChecksDefinition:
    """The Dagster asset check of `check` (per domain when the check is partitioned)."""

    def _check(context: AssetCheckExecutionContext) -> AssetCheckResult:
        domain = domain_key(context) if check.partitioned else None
        ctx = build_context(context, check)
        session = (
            context.resources.warehouse.session()
            if "warehouse" in resource_keys(check)
            else contextlib.nullcontext()
        )
        with session as wh:
            result = check.run(ctx, wh, domain)
        return AssetCheckResult(
            passed=result.passed, severity=SEVERITY[result.severity], metadata=result.metadata
        )

    with warnings.catch_warnings():
        # Partitioned asset checks are a Dagster preview feature; they are what per-domain
        # validation needs, and the warning would print on every load.
        warnings.simplefilter("ignore", PreviewWarning)
        return asset_check(
            asset=AssetKey(list(check.asset)),
            name=check.name,
            blocking=check.blocking,
            description=check.description,
            partitions_def=DOMAINS if check.partitioned else None,
            required_resource_keys=resource_keys(check),
        )(_check)


def source_asset(source: Source):
    """The observable source asset of `source` (a data version per partition)."""
    writes = source.writes

    @observable_source_asset(
        key=AssetKey(list(source.key)),
        group_name=source.group,
        partitions_def=PARTITIONS[writes.partition] if writes.partitioned else None,
        description=source.description,
        tags={f"dagster/kind/{kind}": "" for kind in sorted(source.kinds)},
        required_resource_keys=resource_keys(source),
    )
    def _observe(context) -> DataVersionsByPartition:
        partitions = PARTITIONS[writes.partition]
        names = context.instance.get_dynamic_partitions(partitions.name)
        return DataVersionsByPartition(source.observe(build_context(context, source), names))

    return _observe
