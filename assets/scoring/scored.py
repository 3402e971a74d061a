"""What every scorer returns: one row per entry in SCORED_SCHEMA, joined to the gold side to make
the items table (schemas/evaluation.py)."""

from __future__ import annotations

import numpy as np
import polars as pl

from schemas.evaluation import ITEMS_SCHEMA

SCORED_COLUMNS = (
    "entry_id",
    "prediction",
    "ranking",
    "score",
    "candidate_scores",
    "score_source",
    "parsed_ok",
    "error",
    "answer",
    "prompt_tokens",
    "completion_tokens",
)
_ITEMS = pl.from_arrow(ITEMS_SCHEMA.empty_table()).schema
SCORED_SCHEMA = pl.Schema({name: _ITEMS[name] for name in SCORED_COLUMNS})


def scored_frame(**columns) -> pl.DataFrame:
    """A scored frame from the given columns (entry_id required); the others are null, and
    parsed_ok defaults to True."""
    n = len(columns["entry_id"])
    data = {}
    for name, dtype in SCORED_SCHEMA.items():
        if name in columns and columns[name] is not None:
            data[name] = pl.Series(name, columns[name]).cast(dtype)
        elif name == "parsed_ok":
            data[name] = pl.Series(name, [True] * n, pl.Boolean)
        else:
            data[name] = pl.Series(name, [None] * n, dtype)
    return pl.DataFrame(data)


def positions_to_scores(n: int, order: list[int]) -> list[float]:
    """Candidate scores from a predicted order (indices into the candidates, best first): the
    relative position, 1.0 for the first and 0.0 for the last, so lists of any length pool."""
    scores = np.empty(n)
    scores[np.asarray(order, np.int64)] = 1.0 - np.arange(n) / max(1, n - 1)
    return scores.tolist()


def ranking_order(candidate_ids: list[str], ranking: list[str]) -> list[int] | None:
    """Indices of `ranking`'s ids in `candidate_ids`, or None unless it is a permutation."""
    if len(ranking) != len(candidate_ids) or len(set(ranking)) != len(ranking):
        return None
    where = {item: i for i, item in enumerate(candidate_ids)}
    if len(where) != len(candidate_ids) or any(r not in where for r in ranking):
        return None
    return [where[r] for r in ranking]


def to_items(gold: pl.DataFrame, scored: pl.DataFrame) -> pl.DataFrame:
    """Gold side (release.gold_items) + scored rows -> the items table, in ITEMS_SCHEMA order."""
    joined = gold.join(scored, on="entry_id", how="left", validate="1:1")
    table = joined.select(ITEMS_SCHEMA.names).to_arrow()
    return pl.from_arrow(table.cast(ITEMS_SCHEMA))
