"""One contract for every pipeline step (no Dagster here).

A step is a plain object that declares the tables it `reads` and the one it `writes` (from the
registry, `schemas/tables.py`) and does its work in one `run(ctx, wh, domain)`, returning a
`StepResult` (rows written and metadata). `assets/steps/dagster.py` turns steps into Dagster
assets: the asset key, group, partitioning, description and kinds come from the step, its
dependencies from the producers of what it reads, its table metadata from what it writes.

The run's settings are built once (`BuildSettings` loads them when the run starts) and handed to
every step in its `BuildContext`; a step never reads the environment.

Most steps work in the warehouse, per domain. A step may instead write files (`Table.stored ==
"files"`: the release, an evaluation's results) and be partitioned by another key (an
evaluation name): it then declares the `resources` it needs (no warehouse for an evaluation), and
its `run` gets `wh=None` and the partition key. A `Source` is what a step reads that no step
writes (the evaluations registered by `recrm eval`): Dagster observes it for a data version.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar, Protocol

from core.settings import Settings
from core.warehouse import Warehouse
from schemas.profiles import SizeProfile, get_profile
from schemas.tables import StepKey, Table


class StepLog(Protocol):
    """Where a step reports (Dagster's run log when it runs as an asset)."""

    def info(self, msg: str) -> None: ...

    def warning(self, msg: str) -> None: ...


@dataclass(frozen=True)
class BuildContext:
    """What a step gets from its run: the run's settings (built once), its log and, for steps
    that call an LLM, the endpoint's configuration."""

    settings: Settings | None  # None for a step without the `build` resource (an evaluation)
    log: StepLog
    run_id: str = ""
    llm: Any = None  # core.llm.config.LLMConfig, for steps with uses_llm
    # What shares one LLM call/token budget: the CLI build (every run it drives carries its
    # BUILD_TAG), else the Dagster run. Never the whole process: two builds in one process (a
    # long-lived Python session, tests) would otherwise spend one budget.
    budget_scope: str = ""
    config: Any = None  # the step's run config (an instance of its `config` class), if any
    # The evaluation results folder, for steps with the `evaluation` resource.
    results_dir: Path | None = None
    # The metadata of a step's latest materialization (None: never materialized): where a step
    # that writes files (the release) put them, for a check of its output.
    materialized: Callable[[StepKey], dict | None] = lambda key: None

    @property
    def seed(self) -> int:
        return self.settings.seed

    @cached_property
    def profile(self) -> SizeProfile:
        return get_profile(self.settings.profile)


@dataclass
class StepResult:
    """What a run wrote: `rows` (the domain's rows for a partitioned step, else the table's) and
    the metadata shown with the materialization."""

    rows: int | None
    metadata: dict = field(default_factory=dict)
    # The output's data version, when the step can say it (an evaluation: config + release).
    data_version: str | None = None


class Step:
    """A pipeline step. Subclasses (usually frozen dataclasses) provide the attributes below, as
    fields, properties or class attributes, and implement `run`."""

    key: StepKey  # the asset key's path: ("item_ranking", "entries")
    group: str  # the Dagster group: the layer or the dimension
    reads: tuple[Table, ...]  # its dependencies are these tables' producers
    writes: Table | None  # the one table it writes (None: files, or nothing)
    description: str  # Markdown, shown in the UI
    kinds: ClassVar[frozenset[str]] = frozenset({"duckdb"})
    uses_llm: ClassVar[bool] = False  # takes the LLM resource's config in its context
    # A Dagster `Config` class: the step's own run config (set in the UI's launchpad).
    config: ClassVar[type | None] = None
    # A Dagster concurrency pool: steps of one pool run at most the pool's limit at once.
    pool: ClassVar[str | None] = None
    # What the run hands it: `warehouse` + `build` (the warehouse session and the settings);
    # `evaluation` (the results folder, no warehouse); `llm` is added by `uses_llm`.
    resources: ClassVar[frozenset[str]] = frozenset({"warehouse", "build"})

    @property
    def partitioned(self) -> bool:
        """Per-domain steps write a partitioned table; a step with no table is per domain."""
        return self.writes is None or self.writes.partitioned

    @property
    def partition(self) -> str | None:
        """What its partitions are ("domain", "scorer") or None."""
        if not self.partitioned:
            return None
        return "domain" if self.writes is None else self.writes.partition

    def preflight(self, ctx: BuildContext) -> None:
        """Refuse to run before the warehouse is opened (e.g. a build with the public key)."""

    def run(self, ctx: BuildContext, wh: Warehouse | None, domain: str | None) -> StepResult:
        """`domain` is the partition key (a domain, or an evaluation name); `wh` is None for a
        step without the `warehouse` resource."""
        raise NotImplementedError


class Source:
    """Input no step writes, observed for its data version per partition (e.g. the evaluation
    specs `recrm eval` registers). Subclasses provide the attributes and implement `observe`."""

    key: StepKey
    group: str
    writes: Table  # what it stands for (its readers depend on it through this table)
    description: str
    kinds: ClassVar[frozenset[str]] = frozenset()
    resources: ClassVar[frozenset[str]] = frozenset()

    def observe(self, ctx: BuildContext, partitions: list[str]) -> dict[str, str]:
        """partition key -> data version, for the partitions whose version can be read."""
        raise NotImplementedError


@dataclass
class CheckResult:
    """A check's verdict: `passed`, how bad a failure is (`error` blocks downstream steps when
    the check is blocking; `warn` does not) and the metadata shown with it."""

    passed: bool
    metadata: dict = field(default_factory=dict)
    severity: str = "error"  # "error" or "warn"


class Check:
    """A check of a step's output, under the same contract: declared `reads`, one `run`.
    Subclasses provide the attributes below and implement `run`."""

    asset: StepKey  # the step whose output it checks
    name: str
    blocking: bool
    description: str
    reads: tuple[Table, ...]
    partitioned: ClassVar[bool] = False  # per domain (the step's partitions) or whole tables
    uses_llm: ClassVar[bool] = False  # takes the LLM resource's config in its context
    resources: ClassVar[frozenset[str]] = frozenset({"warehouse", "build"})

    def run(self, ctx: BuildContext, wh: Warehouse | None, domain: str | None) -> CheckResult:
        raise NotImplementedError
