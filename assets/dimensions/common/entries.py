"""The last step every log-derived dimension shares: render prompt and answer with the
dimension's versioned template, assign splits, keep exactly the entry-schema columns, write the
domain's rows of `entries_<dim>`, and describe them (rows, label and split distribution)."""

from __future__ import annotations

import polars as pl

from assets.dimensions.common.splits import assign_splits
from core.templates import PromptTemplate
from core.warehouse import Warehouse
from schemas.entries import LABEL_COLUMN, entries_table, entry_schema


def finalize_entries(
    frame: pl.DataFrame,
    dimension: str,
    template: PromptTemplate,
    seed: int,
    fractions: dict[str, float],
) -> pl.DataFrame:
    """Rendered, split entries in entry_schema(dimension) column order (text helpers dropped)."""
    rendered = frame.with_columns(
        template.render_prompt(frame).alias("prompt"),
        template.render_answer(frame).alias("answer"),
    )
    names = entry_schema(dimension).names
    missing = [n for n in names if n not in rendered.columns and n != "split"]
    if missing:
        raise ValueError(f"{dimension}: entry frame lacks columns {missing}")
    rendered = rendered.select([n for n in names if n in rendered.columns and n != "split"])
    return assign_splits(rendered, dimension, seed, fractions).select(names)


def label_distribution(frame: pl.DataFrame, dimension: str) -> dict[str, int]:
    """Counts per label value; for item_ranking, per number of candidates ranked."""
    col = LABEL_COLUMN[dimension]
    if dimension == "item_ranking":
        key = pl.col(col).list.len().cast(pl.String).alias("k")
        key = pl.lit("n_candidates=") + key
    else:
        key = pl.col(col).cast(pl.String).alias("k")
    counts = frame.select(key.alias("k")).group_by("k").len().sort("k")
    return {k: int(n) for k, n in counts.iter_rows()}


def split_distribution(frame: pl.DataFrame) -> dict[str, int]:
    counts = frame.group_by("split").len().sort("split")
    return {k: int(n) for k, n in counts.iter_rows()}


def write_entries(wh: Warehouse, dimension: str, domain: str, frame: pl.DataFrame) -> dict:
    """Replace the domain's rows of entries_<dim>; returns the asset metadata."""
    schema = entry_schema(dimension)
    # Parquet-backed like every entries table (`core.file_tables`); in frame order, which the
    # LLM judge layer reads them in.
    rows = wh.write_partition_files(
        entries_table(dimension), domain, [frame.to_arrow()], schema, ordered=True
    )
    return {
        "rows": int(rows),
        "label_distribution": label_distribution(frame, dimension),
        "split_distribution": split_distribution(frame),
    }
