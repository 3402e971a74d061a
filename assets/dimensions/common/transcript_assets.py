"""The steps of an agent-transcript dimension (per domain):
[<dim>, labelled] -> [<dim>, synthetic] -> [<dim>, entries]. Each dimension passes its own plain
functions (loading its turns, rule labels, synthesis, entry assembly, metadata) and step-table
layout; the step tables `<dim>_labelled` and `<dim>_synthetic` are registered (schemas/tables.py)
with it. This layer imports no dimension: each registers what it needs."""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import polars as pl
import pyarrow as pa
from dagster import AssetsDefinition

from assets.dimensions.common.entries import finalize_entries, write_entry_slices
from assets.dimensions.common.entries_step import ENTRY_COMMON
from assets.dimensions.common.labels import frame_label_distribution
from assets.dimensions.common.negatives import (
    MEMORY_ROWS,
    POSITIVE_SLICE_ROWS,
    PositiveRows,
    Synthesis,
)
from assets.dimensions.common.provenance import provenance_params
from assets.dimensions.common.splits import DomainSplit, domain_split
from assets.dimensions.common.transcripts import (
    entry_rows,
    evidence_items,
    in_entry_order,
    kept_entry_ids,
    kept_rows_sql,
    turn_rows_sql,
)
from assets.dimensions.common.wording import domain_template
from assets.steps.contract import BuildContext, Step, StepResult
from assets.steps.dagster import step_asset
from core.parallel import merge_counts
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
    # The domain's agent turns, logged and generated, a slice at a time, in a fixed order:
    # (warehouse, domain) -> frames.
    turn_slices: Callable[[Warehouse, str], Iterator[pl.DataFrame]]
    # (turns read, turns labelled) -> metadata on the generated turns among them (counts).
    generated_counts: Callable[[pl.DataFrame, pl.DataFrame], dict]
    # (a slice of turns, the label context) -> (labelled rows, stats: counts).
    label_turns: Callable[[pl.DataFrame, Any], tuple[pl.DataFrame, dict]]
    # How negatives are planted in the labelled positives (`negatives.Synthesis`).
    synthesis: Synthesis
    # The columns whose repeat makes a repeated entry (one is kept: the real one first).
    repeat_key: tuple[str, ...]
    describe: Callable[[pl.DataFrame], dict]
    # What the labelled step does: "<how turns are labelled> -> <table>".
    labelled_description: str
    # What the synthetic step does: "<what is planted> -> <table>".
    synthetic_description: str
    # stats of label_turns -> a warning to log, or None.
    label_warning: Callable[[dict], str | None] = lambda stats: None
    # What labelling a turn needs to know of the whole domain, from the domain's distinct
    # evidence items (`transcripts.evidence_items`); None: a turn's label reads that turn alone.
    label_context: Callable[[pl.DataFrame], Any] | None = None
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

    def write(self, wh: Warehouse, table: str, domain: str, frames: Iterable[pl.DataFrame]) -> int:
        """Replace the domain's rows of a step table with `frames` (a generator is drawn one
        frame at a time, as each is written), in order (synthesis reads them in it)."""

        def sources() -> Iterator[pl.DataFrame | pa.Table]:
            empty = True
            for frame in frames:
                if frame.height:
                    empty = False
                    yield frame
            if empty:  # the file carries the schema
                yield self.step_schema.empty_table()

        return wh.write_partition_files(table, domain, sources(), self.step_schema, ordered=True)

    def read_narrow(self, wh: Warehouse, table: str, domain: str) -> pl.DataFrame:
        """The domain's rows of a step table without the widest columns (for `summary`)."""
        wide = ", ".join(WIDE_COLUMNS)
        return wh.query(
            f"SELECT * EXCLUDE ({wide}) FROM {quote_ident(table)} WHERE domain = $domain",
            {"domain": domain},
        )


# The widest columns of a turn row, which no step's description (`summary`) reads.
WIDE_COLUMNS = ("response", "evidence")


@dataclass(frozen=True)
class _TranscriptStep(Step):
    dim: TranscriptDimension
    kinds: ClassVar[frozenset[str]] = frozenset({"duckdb", "parquet"})

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
        counts: list[dict] = []
        with wh.scratch_folder("turns") as folder:
            slices, context = dim.turn_slices(wh, domain), None
            if dim.label_context is not None:
                slices, items = _stashed(slices, folder)
                context = dim.label_context(items)

            def labelled() -> Iterator[pl.DataFrame]:
                for turns in slices:
                    frame, stats = dim.label_turns(turns, context)
                    counts.append({**stats, **dim.generated_counts(turns, frame)})
                    yield (
                        frame.with_columns(pl.lit(domain).alias("domain"))
                        if frame.height
                        else frame
                    )

            rows = dim.write(wh, dim.labelled_table, domain, labelled())
        if not counts:  # no turn: the stats of none
            empty = pl.DataFrame()
            counts.append(
                {**dim.label_turns(empty, context)[1], **dim.generated_counts(empty, empty)}
            )
        stats = merge_counts(counts)
        warning = dim.label_warning(stats)
        if warning:
            ctx.log.warning(warning)
        summary = dim.summary(dim.read_narrow(wh, dim.labelled_table, domain))
        return StepResult(rows, {**summary, **stats, "rows": rows})


def _stashed(
    slices: Iterable[pl.DataFrame], folder: Path
) -> tuple[Iterator[pl.DataFrame], pl.DataFrame]:
    """Turn slices written to Parquet files in `folder` while their distinct evidence items are
    gathered: (the slices read back one at a time, in order; the domain's evidence items, each
    as it first occurs). Labelling then knows the whole domain's items without holding its
    turns."""
    paths, items = [], []
    for n, turns in enumerate(slices):
        paths.append(folder / f"turns-{n:05d}.parquet")
        turns.write_parquet(paths[-1])
        items.append(evidence_items(turns["evidence"]))
    first = (
        pl.concat(items).unique("item_id", keep="first", maintain_order=True)
        if items
        else pl.DataFrame()
    )
    return (pl.read_parquet(path) for path in paths), first


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
        # The positives are read a slice at a time (into a scratch folder when there are more
        # than MEMORY_ROWS); the negatives' rows are only counted.
        table, params = quote_ident(dim.labelled_table), {"domain": domain}
        counts = wh.query(
            "SELECT count(*) FILTER (label = 1) AS positives, "
            f"count(*) FILTER (label IS DISTINCT FROM 1) AS negatives FROM {table} "
            "WHERE domain = $domain",
            params,
        ).row(0, named=True)
        with wh.scratch_folder("synthetic") as folder:
            stash = folder if counts["positives"] > MEMORY_ROWS else None
            positives = PositiveRows.stash(
                wh.query_slices(
                    f"SELECT * FROM {table} WHERE domain = $domain AND label = 1",
                    params,
                    POSITIVE_SLICE_ROWS,
                ),
                stash,
            )
            frames, stats = dim.synthesis.plant(
                positives, counts["negatives"], ctx.seed, ratio, stash
            )
            rows = dim.write(wh, dim.synthetic_table, domain, frames)
        summary = dim.summary(dim.read_narrow(wh, dim.synthetic_table, domain))
        return StepResult(rows, {**summary, **stats, "rows": rows})


@dataclass(frozen=True)
class TranscriptEntriesStep(_TranscriptStep):
    """[<dim>, entries]: labelled and synthetic turns deduplicated, balanced, rendered, split."""

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
