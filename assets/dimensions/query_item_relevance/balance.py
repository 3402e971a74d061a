"""Which catalog candidates (sampling.py) become entries: the ones that lift under-represented
grades to GRADE_FLOOR of the domain's released relevance entries.

Shown pairs are mostly relevant (a platform shows what fits), so complements and unrelated items
are rare among them; a benchmark where a grade is rare barely tests it. After labelling, every
shown and annotated pair is kept, and for each grade below the floor (counting the labels that
will be released: human ones and rule labels at or above the labeler's MIN_CONFIDENCE) the
confidently labelled catalog candidates of that grade are added in their seeded order, as many as
the floor needs or the candidates allow. The choice reads the released labels only, never truth.
"""

from __future__ import annotations

import math

import polars as pl

from assets.dimensions.query_item_relevance.labeler import MIN_CONFIDENCE, UNDECIDED_SQL

GRADE_FLOOR = 0.2
GRADES = (0, 1, 2, 3)


def grade_additions(counts: dict[int, int], floor: float = GRADE_FLOOR) -> dict[int, int]:
    """How many entries of each grade to add so that every grade reaches `floor` of the total
    (the additions count in the total too)."""
    n = sum(counts.values())
    short = [g for g in GRADES if counts.get(g, 0) < floor * n]
    if not short or len(short) * floor >= 1.0:
        return {}
    extra = (len(short) * floor * n - sum(counts.get(g, 0) for g in short)) / (
        1.0 - len(short) * floor
    )
    return {g: max(0, math.ceil(floor * (n + extra) - counts.get(g, 0))) for g in short}


def take_catalog_pairs(labelled: pl.DataFrame, floor: float = GRADE_FLOOR) -> pl.DataFrame:
    """`labelled` (origin, order_key, label, label_source, label_confidence, ...) without the
    catalog candidates that are not needed; rows keep their order."""
    catalog = pl.col("origin") == "catalog"
    released = labelled.filter(~catalog & ~pl.sql_expr(UNDECIDED_SQL).fill_null(False))
    counts = {int(g): int(n) for g, n in released.group_by("label").len().iter_rows()}
    need = grade_additions(counts, floor)
    ranked = (
        labelled.with_row_index("_row")
        .filter(catalog & (pl.col("label_confidence") >= MIN_CONFIDENCE))
        .sort("order_key", "entry_id")
        .with_columns(pl.int_range(pl.len()).over("label").alias("_rank"))
    )
    wanted = pl.col("label").replace_strict(need, default=0, return_dtype=pl.Int64)
    chosen = ranked.filter(pl.col("_rank") < wanted)["_row"]
    return (
        labelled.with_row_index("_row")
        .filter(~catalog | pl.col("_row").is_in(chosen.implode()))
        .drop("_row")
    )
