"""The one factory from steps to Dagster assets.

`step_asset(step)` gives the asset its key, group, partitioning (by domain unless the step writes
an unpartitioned table), description, kinds and table metadata from the step, and its
dependencies from the producers of the tables the step reads (`schemas.tables.producers_of`).
The asset body builds the step's `BuildContext` from the run's resources (settings loaded once per
run), opens one warehouse session, runs the step and reports its metadata with the standard table
metadata of what it wrote. `step_check(check)` does the same for a `Check` of a step's output.
"""

import warnings

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    MaterializeResult,
    PreviewWarning,
    asset,
    asset_check,
)

from assets.partitions import DOMAINS, domain_key
from assets.steps.contract import BuildContext, Check, Step
from assets.table_metadata import table_metadata, table_spec
from schemas.tables import producers_of

# The tag `recrm build` puts on every run it drives: the runs of one build share its LLM budget.
BUILD_TAG = "recrm/build"


def step_deps(step: Step) -> list[AssetKey]:
    """The asset keys of the steps that write what `step` reads (never itself)."""
    return [AssetKey(list(k)) for k in producers_of(step.reads) if k != step.key]


def build_context(context, step: Step | Check) -> BuildContext:
    resources = context.resources
    settings = resources.build.settings(warehouse_path=resources.warehouse.path)
    llm = resources.llm.config() if getattr(step, "uses_llm", False) else None
    config_class = getattr(step, "config", None)
    config = (
        config_class(**(context.op_execution_context.op_config or {})) if config_class else None
    )
    run = context.run
    return BuildContext(
        settings=settings,
        log=context.log,
        run_id=run.run_id,
        llm=llm,
        config=config,
        budget_scope=run.tags.get(BUILD_TAG, run.run_id),
    )


def step_asset(step: Step) -> AssetsDefinition:
    """The Dagster asset of `step`."""
    writes = step.writes
    resource_keys = {"warehouse", "build"} | ({"llm"} if step.uses_llm else set())

    @asset(
        key=AssetKey(list(step.key)),
        group_name=step.group,
        deps=step_deps(step),
        partitions_def=DOMAINS if step.partitioned else None,
        description=step.description,
        kinds=set(step.kinds),
        metadata=table_spec(writes.name, writes.schema) if writes is not None else None,
        required_resource_keys=resource_keys,
        config_schema=step.config.to_config_schema() if step.config else None,
        pool=step.pool,
    )
    def _step(context: AssetExecutionContext) -> MaterializeResult:
        domain = domain_key(context) if step.partitioned else None
        ctx = build_context(context, step)
        step.preflight(ctx)
        with context.resources.warehouse.session() as wh:
            result = step.run(ctx, wh, domain)
            standard = {}
            if writes is not None:
                standard = (
                    table_metadata(wh, writes.name, writes.schema, result.rows)
                    if step.partitioned
                    else table_metadata(wh, writes.name, writes.schema, None, result.rows)
                )
        return MaterializeResult(metadata={**result.metadata, **standard})

    return _step


SEVERITY = {"error": AssetCheckSeverity.ERROR, "warn": AssetCheckSeverity.WARN}


def step_check(check: Check) -> AssetChecksDefinition:
    """The Dagster asset check of `check` (per domain when the check is partitioned)."""

    def _check(context: AssetCheckExecutionContext) -> AssetCheckResult:
        domain = domain_key(context) if check.partitioned else None
        ctx = build_context(context, check)
        with context.resources.warehouse.session() as wh:
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
            required_resource_keys={"warehouse", "build"} | ({"llm"} if check.uses_llm else set()),
        )(_check)
