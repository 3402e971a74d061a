"""The steps of an agent-transcript dimension (per domain):
[<dim>, labelled] -> [<dim>, synthetic] -> [<dim>, entries]. Each dimension passes its own plain
functions (loading its turns, rule labels, synthesis, entry assembly, metadata) and step-table
layout; the step tables `<dim>_labelled` and `<dim>_synthetic` are registered (schemas/tables.py)
with it. This layer imports no dimension: each registers what it needs."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import polars as pl
import pyarrow as pa
from dagster import AssetsDefinition

from assets.dimensions.common.entries import finalize_entries, write_entry_slices
from assets.dimensions.common.entries_step import ENTRY_COMMON
from assets.dimensions.common.labels import frame_label_distribution
from assets.dimensions.common.provenance import provenance_params
from assets.dimensions.common.splits import DomainSplit, domain_split
from assets.dimensions.common.transcripts import (
    entry_rows,
    in_entry_order,
    kept_entry_ids,
    kept_rows_sql,
    turn_rows_sql,
)
from assets.dimensions.common.wording import domain_template
from assets.steps.contract import BuildContext, Step, StepResult
from assets.steps.dagster import step_asset
from core.sql import quote_ident, sql_literal
from core.templates import PromptTemplate
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
    # The columns whose repeat makes a repeated entry (one is kept: the real one first).
    repeat_key: tuple[str, ...]
    describe: Callable[[pl.DataFrame], dict]
    # What the labelled step does: "<how turns are labelled> -> <table>".
    labelled_description: str
    # What the synthetic step does: "<what is planted> -> <table>".
    synthetic_description: str
    # stats of label_turns -> a warning to log, or None.
    label_warning: Callable[[dict], str | None] = lambda stats: None
    # Entry rows (`transcripts.entry_rows`) -> with the dimension's own entry columns; row by row.
    finish_entries: Callable[[pl.DataFrame], pl.DataFrame] = lambda rows: rows

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


# The widest columns of a turn row, which the entries step's description does not read.
WIDE_COLUMNS = ("response", "evidence")


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
        dim = self.dim
        template = domain_template(wh, dim.name, domain)
        provenance = provenance_params(wh, domain, dim.name, template)
        with wh.scratch_folder("entries") as folder:
            slices = self._write_kept_rows(wh, domain, ctx, folder)
            if not slices:
                empty = pl.from_arrow(entry_schema(dim.name).empty_table())
                metadata = write_entry_slices(wh, dim.name, domain, [(empty, 0)])
                return StepResult(metadata["rows"], metadata)
            # What the entries are made of, before the split; without the two widest columns.
            kept = pl.scan_parquet(folder / "*" / "*.parquet", hive_partitioning=False)
            columns = [c for c in kept.collect_schema().names() if c not in WIDE_COLUMNS]
            summary = dim.summary(kept.select(columns).collect())
            split = domain_split(wh, domain, ctx.seed, ctx.profile.split_fractions)
            metadata = write_entry_slices(
                wh, dim.name, domain, self._entry_slices(slices, provenance, template, split)
            )
        return StepResult(metadata["rows"], {**summary, **metadata})

    def _write_kept_rows(
        self, wh: Warehouse, domain: str, ctx: BuildContext, folder: Path
    ) -> list[Path]:
        """Write the domain's kept turn rows into `folder`, a sub-folder of Parquet files per
        slice of the entry order; returns the slices' folders, in that order."""
        dim = self.dim
        relations = [
            f"(SELECT * FROM {quote_ident(t)} WHERE domain = $domain)"
            for t in (dim.labelled_table, dim.synthetic_table)
            if wh.table_exists(t)
        ]
        if not relations:
            return []
        rows_sql, params = turn_rows_sql(relations, dim.name), {"domain": domain}
        ratio = ctx.profile.positive_ratio[dim.name]
        with wh.connect() as con:
            kept = kept_entry_ids(
                con, rows_sql, dim.name, domain, ctx.seed, ratio, dim.repeat_key, params
            )
            if kept.height == 0:
                return []
            con.register("_kept_entry_ids", kept)
            try:
                con.execute(
                    f"COPY ({kept_rows_sql(rows_sql, '_kept_entry_ids')}) "
                    f"TO {sql_literal(str(folder))} (FORMAT parquet, PARTITION_BY (entry_slice))",
                    params,
                )
            finally:
                con.unregister("_kept_entry_ids")
        return [folder / f"entry_slice={n}" for n in range(int(kept["entry_slice"].max()) + 1)]

    def _entry_slices(
        self, slices: list[Path], provenance: dict, template: PromptTemplate, split: DomainSplit
    ) -> Iterator[tuple[pl.DataFrame, int]]:
        """The kept rows as rendered, split entries, a slice at a time (see `finalize_entries`)."""
        dim = self.dim
        for folder in slices:
            rows = in_entry_order(pl.read_parquet(folder / "*.parquet", hive_partitioning=False))
            entries = dim.finish_entries(entry_rows(rows, dim.name, provenance))
            # the turn's time (its request's) decides the split window with its user
            yield finalize_entries(entries, dim.name, template, split, time_column="ts")


def transcript_steps(dim: TranscriptDimension) -> tuple[Step, Step, Step]:
    """The (labelled, synthetic, entries) steps of `dim`."""
    return LabelledStep(dim), SyntheticStep(dim), TranscriptEntriesStep(dim)


def transcript_assets(
    dim: TranscriptDimension,
) -> tuple[AssetsDefinition, AssetsDefinition, AssetsDefinition]:
    """The (labelled, synthetic, entries) assets of `dim`."""
    labelled, synthetic, entries = (step_asset(step) for step in transcript_steps(dim))
    return labelled, synthetic, entries
