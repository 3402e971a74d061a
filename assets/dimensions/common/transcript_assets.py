"""The steps of an agent-transcript dimension (per domain):
[<dim>, labelled] -> [<dim>, synthetic] -> [<dim>, entries]. Each dimension passes its own plain
functions (loading its turns, rule labels, synthesis, entry assembly, metadata) and step-table
layout; the step tables `<dim>_labelled` and `<dim>_synthetic` are registered (schemas/tables.py)
with it. This layer imports no dimension: each registers what it needs."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import polars as pl
import pyarrow as pa
from dagster import AssetsDefinition

from assets.dimensions.common.entries import finalize_entries, write_entries
from assets.dimensions.common.entries_step import ENTRY_COMMON
from assets.dimensions.common.labels import frame_label_distribution
from assets.dimensions.common.provenance import provenance_params
from assets.dimensions.common.splits import domain_split
from assets.dimensions.common.wording import domain_template
from assets.steps.contract import BuildContext, Step, StepResult
from assets.steps.dagster import step_asset
from core.warehouse import Warehouse
from schemas import tables
from schemas.entries import entry_schema


@dataclass(frozen=True)
class TranscriptDimension:
    """One transcript dimension's plain functions and step-table layout (see its build.py)."""

    name: str
    step_schema: pa.Schema
    # The domain's agent turns, logged and generated (warehouse, domain) -> frame.
    load_turns: Callable[[Warehouse, str], pl.DataFrame]
    # (turns read, turns labelled) -> metadata on the generated turns among them.
    generated_counts: Callable[[pl.DataFrame, pl.DataFrame], dict]
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

    def summary(self, frame: pl.DataFrame) -> dict:
        """`describe` and the label distribution of a step's frame."""
        labels = frame_label_distribution(frame, self.name) if "label" in frame.columns else {}
        return {**self.describe(frame), **({"label_distribution": labels} if labels else {})}

    def write(self, wh: Warehouse, table: str, domain: str, frame: pl.DataFrame) -> int:
        # The frame itself: the writer converts it to Arrow a slice at a time.
        source = self.step_schema.empty_table() if frame.height == 0 else frame
        return wh.write_partition(table, domain, source, schema=self.step_schema)


def _read(wh: Warehouse, table: str, domain: str) -> pl.DataFrame:
    return wh.read_partition(table, domain) if wh.table_exists(table) else pl.DataFrame()


@dataclass(frozen=True)
class _TranscriptStep(Step):
    dim: TranscriptDimension

    @property
    def group(self) -> str:
        return self.dim.name

    def table(self, name: str) -> tables.Table:
        """One of the dimension's step tables, registered with its schema."""
        key = (self.dim.name, name.removeprefix(f"{self.dim.name}_"))
        return tables.register(tables.Table(name, (key,), self.dim.step_schema))


@dataclass(frozen=True)
class LabelledStep(_TranscriptStep):
    """[<dim>, labelled]: the domain's agent turns (logged and generated), labelled by rule."""

    @property
    def key(self) -> tuple[str, ...]:
        return (self.dim.name, "labelled")

    @property
    def reads(self) -> tuple[tables.Table, ...]:
        turns = tuple(tables.raw(t) for t in ("agent_turns", "requests", "items"))
        return (*turns, tables.GENERATED_TURNS)

    @property
    def writes(self) -> tables.Table:
        return self.table(self.dim.labelled_table)

    @property
    def description(self) -> str:
        return f"{self.dim.labelled_description} -> `{self.dim.labelled_table}`"

    def run(self, ctx: BuildContext, wh: Warehouse, domain: str | None) -> StepResult:
        dim = self.dim
        turns = dim.load_turns(wh, domain)
        frame, stats = dim.label_turns(turns)
        generated = dim.generated_counts(turns, frame)
        del turns  # the labelled rows are a copy: the write holds only them
        if frame.height:
            frame = frame.with_columns(pl.lit(domain).alias("domain"))
        rows = dim.write(wh, dim.labelled_table, domain, frame)
        warning = dim.label_warning(stats)
        if warning:
            ctx.log.warning(warning)
        return StepResult(rows, {**dim.summary(frame), **stats, **generated, "rows": rows})


@dataclass(frozen=True)
class SyntheticStep(_TranscriptStep):
    """[<dim>, synthetic]: negatives planted in the labelled positives, to the profile's ratio."""

    @property
    def key(self) -> tuple[str, ...]:
        return (self.dim.name, "synthetic")

    @property
    def reads(self) -> tuple[tables.Table, ...]:
        return (LabelledStep(self.dim).writes,)

    @property
    def writes(self) -> tables.Table:
        return self.table(self.dim.synthetic_table)

    @property
    def description(self) -> str:
        return f"{self.dim.synthetic_description} -> `{self.dim.synthetic_table}`"

    def run(self, ctx: BuildContext, wh: Warehouse, domain: str | None) -> StepResult:
        dim = self.dim
        ratio = ctx.profile.positive_ratio[dim.name]
        frame, stats = dim.synthesize(_read(wh, dim.labelled_table, domain), ctx.seed, ratio)
        rows = dim.write(wh, dim.synthetic_table, domain, frame)
        return StepResult(rows, {**dim.summary(frame), **stats, "rows": rows})


@dataclass(frozen=True)
class TranscriptEntriesStep(_TranscriptStep):
    """[<dim>, entries]: labelled and synthetic turns deduplicated, balanced, rendered, split."""

    kinds: ClassVar[frozenset[str]] = frozenset({"duckdb", "parquet"})

    @property
    def key(self) -> tuple[str, ...]:
        return (self.dim.name, "entries")

    @property
    def reads(self) -> tuple[tables.Table, ...]:
        steps = (LabelledStep(self.dim).writes, SyntheticStep(self.dim).writes)
        return (*steps, *ENTRY_COMMON)

    @property
    def writes(self) -> tables.Table:
        return tables.entries(self.dim.name)

    @property
    def description(self) -> str:
        return f"deduplicated, balanced, rendered and split entries -> `{self.writes.name}`"

    def run(self, ctx: BuildContext, wh: Warehouse, domain: str | None) -> StepResult:
        name, profile = self.dim.name, ctx.profile
        template = domain_template(wh, name, domain)
        frame = self.dim.assemble_entries(
            _read(wh, self.dim.labelled_table, domain),
            _read(wh, self.dim.synthetic_table, domain),
            domain,
            ctx.seed,
            profile.positive_ratio[name],
            provenance_params(wh, domain, name, template),
        )
        summary = self.dim.summary(frame)
        held_out = 0
        if frame.height:
            split = domain_split(wh, domain, ctx.seed, profile.split_fractions)
            # the turn's time (its request's) decides the split window with its user
            out, held_out = finalize_entries(frame, name, template, split, time_column="ts")
            del frame  # the rendered rows are a copy: the write holds only them
        else:
            out = pl.from_arrow(entry_schema(name).empty_table())
        metadata = write_entries(wh, name, domain, out, held_out)
        return StepResult(metadata.get("rows"), {**summary, **metadata})


def transcript_steps(dim: TranscriptDimension) -> tuple[Step, Step, Step]:
    """The (labelled, synthetic, entries) steps of `dim`."""
    return LabelledStep(dim), SyntheticStep(dim), TranscriptEntriesStep(dim)


def transcript_assets(
    dim: TranscriptDimension,
) -> tuple[AssetsDefinition, AssetsDefinition, AssetsDefinition]:
    """The (labelled, synthetic, entries) assets of `dim`."""
    labelled, synthetic, entries = (step_asset(step) for step in transcript_steps(dim))
    return labelled, synthetic, entries
