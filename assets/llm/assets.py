"""Dagster definitions of the LLM layer.

- `[<dimension>, "judged"]` per dimension: reads `entries_<dim>` for its domain, writes
  `judged_<dim>`. With no endpoint configured, or for a dimension no judge covers, it is a
  pass-through (`llm: off` / `llm: no judge`): a copy of the domain's rows, or for a dimension no
  judge covers a view over `entries_<dim>` (assets.llm.passthrough). Otherwise the dimension's
  judge labels what the rules leave open, merged by the configured policy (assets.llm.judged).
  A `JudgedStep` (the step contract, assets/steps/) made into an asset by `step_asset`.
- `[instruction_following, "generated_turns"]`: agent responses generated for requests that have
  no agent turn in the logs -> `llm_generated_turns` (empty without an endpoint); a
  `GeneratedTurnsStep`.
Every run records its LLM usage in `llm_usage` and in the metadata.
"""

from dataclasses import dataclass
from typing import ClassVar

from assets.dimensions.common.left_out import LOW_CONFIDENCE, record_left_out
from assets.llm.generate import (
    GENERATED_TABLE,
    generate_turns,
    write_generated_turns,
)
from assets.llm.judged import judge_entries
from assets.llm.judges import judge_of
from assets.llm.passthrough import copy_entries, view_entries
from assets.steps.contract import BuildContext, Step, StepResult
from assets.steps.dagster import step_asset
from core.llm.cache import ResponseCache
from core.llm.client import LLMClient
from core.llm.usage import Usage, build_budget, write_usage
from core.warehouse import Warehouse
from schemas import tables
from schemas.entries import DIMENSIONS, entries_table, entry_schema

# The concurrency pool of the steps that call an LLM endpoint: a team instance caps how many run
# at once across all runs (deploy/dagster.yaml, `concurrency.pools`), so concurrent domain runs do
# not overload one endpoint. Without a limit configured (dagster.yaml) a pool limits nothing.
LLM_POOL = "llm"


def _client(config, warehouse, budget_scope: str) -> LLMClient:
    budget = build_budget(config.budget_calls, config.budget_tokens, scope=budget_scope)
    return LLMClient(config, ResponseCache(warehouse), budget)


@dataclass(frozen=True)
class JudgedStep(Step):
    """[<dimension>, judged]: the domain's entries after the LLM-judge layer (a pass-through
    without an endpoint or a judge for the dimension)."""

    dimension: str

    kinds: ClassVar[frozenset[str]] = frozenset({"duckdb", "parquet", "openai"})
    uses_llm: ClassVar[bool] = True
    pool: ClassVar[str | None] = LLM_POOL

    @property
    def key(self) -> tuple[str, ...]:
        return (self.dimension, "judged")

    @property
    def group(self) -> str:
        return self.dimension

    @property
    def reads(self) -> tuple[tables.Table, ...]:
        return (tables.entries(self.dimension),)

    @property
    def writes(self) -> tables.Table:
        return tables.judged(self.dimension)

    @property
    def description(self) -> str:
        return f"`entries_{self.dimension}` after the LLM-judge layer -> `{self.writes.name}`"

    def run(self, ctx: BuildContext, wh: Warehouse, domain: str | None) -> StepResult:
        """Judge (or pass through) the domain's entries; the metadata describes which."""
        dimension, config = self.dimension, ctx.llm
        asset_name = f"{dimension}/judged"
        judge = judge_of(dimension)
        if judge is None:  # its declaration says no judge applies (llm_judge=None)
            rows = view_entries(wh, dimension, domain)
            write_usage(wh, asset_name, dimension, domain, Usage())
            state = "off" if not config.enabled else "no judge for this dimension"
            return StepResult(rows, {"rows": rows, "llm": state})
        if not config.enabled:
            rows, left_out = copy_entries(wh, dimension, domain, judge.undecided_sql)
            record_left_out(wh, dimension, domain, LOW_CONFIDENCE, left_out)
            write_usage(wh, asset_name, dimension, domain, Usage())
            return StepResult(rows, {"rows": rows, "llm": "off", "left_out_undecided": left_out})
        entries = wh.read_partition(entries_table(dimension), domain)
        outcome = judge_entries(
            dimension,
            entries,
            _client(config, wh, ctx.budget_scope),
            config.policy,
            scope=f"{asset_name}/{domain}",
        )
        rows = wh.write_partition_files(
            self.writes.name,
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
            ctx.log.warning(
                f"LLM budget spent: {outcome.metadata['not_judged_budget']} entries keep their "
                "rule/heuristic label"
            )
        return StepResult(
            rows,
            {
                "rows": rows,
                "entries_in": entries.height,
                "llm": "on",
                "model": config.model,
                "policy": str(config.policy),
                **outcome.metadata,
                **outcome.usage.as_metadata(),
            },
        )


JUDGED_STEPS = [JudgedStep(d) for d in DIMENSIONS]
JUDGED_ASSETS = [step_asset(step) for step in JUDGED_STEPS]


@dataclass(frozen=True)
class GeneratedTurnsStep(Step):
    """[instruction_following, generated_turns]: agent responses generated for the domain's
    requests without an agent turn (none without an endpoint)."""

    key: ClassVar[tuple[str, ...]] = ("instruction_following", "generated_turns")
    group: ClassVar[str] = "instruction_following"
    reads: ClassVar[tuple[tables.Table, ...]] = tuple(
        tables.raw(t) for t in ("requests", "impressions", "items", "agent_turns")
    )
    writes: ClassVar[tables.Table] = tables.GENERATED_TURNS
    description: ClassVar[str] = (
        f"agent responses generated for requests without an agent turn -> `{GENERATED_TABLE}`"
    )
    kinds: ClassVar[frozenset[str]] = frozenset({"duckdb", "openai"})
    uses_llm: ClassVar[bool] = True
    pool: ClassVar[str | None] = LLM_POOL

    def run(self, ctx: BuildContext, wh: Warehouse, domain: str | None) -> StepResult:
        config = ctx.llm
        asset_name = "instruction_following/generated_turns"
        if not config.enabled:
            rows = write_generated_turns(wh, domain, None)
            write_usage(wh, asset_name, "instruction_following", domain, Usage())
            return StepResult(rows, {"rows": rows, "llm": "off"})
        frame, usage, metadata = generate_turns(
            wh,
            domain,
            _client(config, wh, ctx.budget_scope),
            config.generate_max_requests,
            scope=f"{asset_name}/{domain}",
        )
        rows = write_generated_turns(wh, domain, frame)
        write_usage(wh, asset_name, "instruction_following", domain, usage)
        return StepResult(
            rows,
            {"rows": rows, "llm": "on", "model": config.model, **metadata, **usage.as_metadata()},
        )


generated_turns = step_asset(GeneratedTurnsStep())
