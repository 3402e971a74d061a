"""The five `[<dimension>, "benchmark"]` steps (group `benchmark`, not partitioned): judged_<dim>
of every domain -> deduplicated, selected benchmark_<dim>."""

from dataclasses import dataclass
from typing import ClassVar

from assets.benchmark.build import build_benchmark
from assets.steps.contract import BuildContext, Step, StepResult
from assets.steps.dagster import step_asset
from core.warehouse import Warehouse
from schemas import tables
from schemas.entries import DIMENSIONS


@dataclass(frozen=True)
class BenchmarkStep(Step):
    """[<dimension>, benchmark]: every domain's judged entries, deduplicated and selected to the
    size profile's count."""

    dimension: str

    group: ClassVar[str] = "benchmark"
    kinds: ClassVar[frozenset[str]] = frozenset({"duckdb", "parquet", "great_expectations"})

    @property
    def key(self) -> tuple[str, ...]:
        return (self.dimension, "benchmark")

    @property
    def reads(self) -> tuple[tables.Table, ...]:
        return (tables.judged(self.dimension),)

    @property
    def writes(self) -> tables.Table:
        return tables.benchmark(self.dimension)

    @property
    def description(self) -> str:
        return (
            f"`{tables.judged_table(self.dimension)}` of all domains, deduplicated and selected "
            f"to the size profile -> `{self.writes.name}`"
        )

    def run(self, ctx: BuildContext, wh: Warehouse, domain: str | None) -> StepResult:
        count = ctx.profile.counts.get(self.dimension)
        metadata = build_benchmark(wh, self.dimension, count, ctx.seed)
        metadata["profile"] = ctx.profile.name
        metadata["asked"] = "all" if count is None else int(count)
        return StepResult(metadata["rows"], metadata)


BENCHMARK_STEPS = [BenchmarkStep(d) for d in DIMENSIONS]
BENCHMARK_ASSETS = [step_asset(step) for step in BENCHMARK_STEPS]
