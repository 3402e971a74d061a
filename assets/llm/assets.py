"""Dagster definitions of the LLM layer.

- `[<dimension>, "judged"]` per dimension: reads `entries_<dim>` for its domain, writes
  `judged_<dim>`. With no endpoint configured, or for a dimension no judge covers, it is a
  pass-through (`llm: off` / `llm: no judge`): a copy of the domain's rows, or for a dimension no
  judge covers a view over `entries_<dim>` (assets.llm.passthrough). Otherwise the dimension's judge labels what the
  rules leave open, merged by the configured policy (assets.llm.judged).
- `[instruction_following, "generated_turns"]`: agent responses generated for requests that have
  no agent turn in the logs -> `llm_generated_turns` (empty without an endpoint).
Every run records its LLM usage in `llm_usage` and in the metadata.
"""

from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, MaterializeResult, asset

from assets.dimensions.common.left_out import LOW_CONFIDENCE, record_left_out
from assets.llm.generate import (
    GENERATED_SCHEMA,
    GENERATED_TABLE,
    generate_turns,
    write_generated_turns,
)
from assets.llm.judged import judge_entries
from assets.llm.judges import JUDGES
from assets.llm.passthrough import copy_entries, judged_table, view_entries
from assets.partitions import DOMAINS, domain_key
from assets.table_metadata import table_metadata, table_spec
from core.llm.cache import ResponseCache
from core.llm.client import LLMClient
from core.llm.usage import Usage, build_budget, write_usage
from pipelines.resources import LLMResource, WarehouseResource
from schemas.entries import DIMENSIONS, entries_table, entry_schema

# The concurrency pool of the steps that call an LLM endpoint: a team instance caps how many run
# at once across all runs (deploy/dagster.yaml, `concurrency.pools`), so concurrent domain runs do
# not overload one endpoint. Without a limit configured (dagster.yaml) a pool limits nothing.
LLM_POOL = "llm"


def _client(config, warehouse) -> LLMClient:
    budget = build_budget(config.budget_calls, config.budget_tokens)
    return LLMClient(config, ResponseCache(warehouse), budget)


def _judged_asset(dimension: str) -> AssetsDefinition:
    @asset(
        key=AssetKey([dimension, "judged"]),
        group_name=dimension,
        deps=[AssetKey([dimension, "entries"])],
        partitions_def=DOMAINS,
        description=(
            f"`entries_{dimension}` after the LLM-judge layer -> `{judged_table(dimension)}`"
        ),
        kinds={"duckdb", "parquet", "openai"},
        metadata=table_spec(judged_table(dimension), entry_schema(dimension)),
        pool=LLM_POOL,
    )
    def _judged(
        context: AssetExecutionContext, warehouse: WarehouseResource, llm: LLMResource
    ) -> MaterializeResult:
        domain = domain_key(context)
        with warehouse.session() as wh:
            result = _judge(context, wh, llm, domain)
            standard = table_metadata(
                wh, judged_table(dimension), entry_schema(dimension), result.metadata["rows"]
            )
            return MaterializeResult(metadata={**result.metadata, **standard})

    def _judge(context, wh, llm: LLMResource, domain: str) -> MaterializeResult:
        """Judge (or pass through) the domain's entries; the result's metadata describes it."""
        config = llm.config()
        asset_name = f"{dimension}/judged"
        if dimension not in JUDGES:
            rows = view_entries(wh, dimension, domain)
            write_usage(wh, asset_name, dimension, domain, Usage())
            state = "off" if not config.enabled else "no judge for this dimension"
            return MaterializeResult(metadata={"rows": rows, "llm": state})
        judge = JUDGES[dimension]
        if not config.enabled:
            rows, left_out = copy_entries(wh, dimension, domain, judge.undecided_sql)
            record_left_out(wh, dimension, domain, LOW_CONFIDENCE, left_out)
            write_usage(wh, asset_name, dimension, domain, Usage())
            return MaterializeResult(
                metadata={"rows": rows, "llm": "off", "left_out_undecided": left_out}
            )
        entries = wh.read_partition(entries_table(dimension), domain)
        outcome = judge_entries(
            dimension,
            entries,
            _client(config, wh),
            config.policy,
            scope=f"{asset_name}/{domain}",
        )
        rows = wh.write_partition_files(
            judged_table(dimension),
            domain,
            [outcome.frame],
            entry_schema(dimension),
            ordered=True,
        )
        record_left_out(
            wh, dimension, domain, LOW_CONFIDENCE, outcome.metadata.get("left_out_undecided", 0)
        )
        write_usage(wh, asset_name, dimension, domain, outcome.usage)
        if outcome.usage.budget_skipped:
            context.log.warning(
                f"LLM budget spent: {outcome.metadata['not_judged_budget']} entries keep their "
                "rule/heuristic label"
            )
        return MaterializeResult(
            metadata={
                "rows": rows,
                "entries_in": entries.height,
                "llm": "on",
                "model": config.model,
                "policy": str(config.policy),
                **outcome.metadata,
                **outcome.usage.as_metadata(),
            }
        )

    return _judged


JUDGED_ASSETS = [_judged_asset(d) for d in DIMENSIONS]


@asset(
    key=AssetKey(["instruction_following", "generated_turns"]),
    group_name="instruction_following",
    deps=[
        AssetKey(["ingest", "requests"]),
        AssetKey(["ingest", "impressions"]),
        AssetKey(["ingest", "items"]),
        AssetKey(["ingest", "agent_turns"]),
    ],
    partitions_def=DOMAINS,
    description=(
        f"agent responses generated for requests without an agent turn -> `{GENERATED_TABLE}`"
    ),
    kinds={"duckdb", "openai"},
    metadata=table_spec(GENERATED_TABLE, GENERATED_SCHEMA),
    pool=LLM_POOL,
)
def generated_turns(
    context: AssetExecutionContext, warehouse: WarehouseResource, llm: LLMResource
) -> MaterializeResult:
    domain = domain_key(context)
    with warehouse.session() as wh:
        config = llm.config()
        asset_name = "instruction_following/generated_turns"
        if not config.enabled:
            rows = write_generated_turns(wh, domain, None)
            write_usage(wh, asset_name, "instruction_following", domain, Usage())
            standard = table_metadata(wh, GENERATED_TABLE, GENERATED_SCHEMA, rows)
            return MaterializeResult(metadata={"rows": rows, "llm": "off", **standard})
        frame, usage, metadata = generate_turns(
            wh,
            domain,
            _client(config, wh),
            config.generate_max_requests,
            scope=f"{asset_name}/{domain}",
        )
        rows = write_generated_turns(wh, domain, frame)
        write_usage(wh, asset_name, "instruction_following", domain, usage)
        return MaterializeResult(
            metadata={
                "rows": rows,
                "llm": "on",
                "model": config.model,
                **metadata,
                **usage.as_metadata(),
                **table_metadata(wh, GENERATED_TABLE, GENERATED_SCHEMA, rows),
            }
        )
