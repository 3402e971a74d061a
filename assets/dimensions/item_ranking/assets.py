"""Dagster definition of [item_ranking, entries]."""

from assets.dimensions.common.entries_step import ENTRY_COMMON, STAGING, LogEntriesStep
from assets.dimensions.item_ranking.build import DIMENSION, write_ranking_entries
from assets.steps.dagster import step_asset
from schemas import tables


def _write(wh, domain, seed, profile) -> dict:
    return write_ranking_entries(wh, domain, seed, profile.split_fractions)


ENTRIES = LogEntriesStep(
    DIMENSION,
    _write,
    reads=(*STAGING, tables.raw("users"), *ENTRY_COMMON),
    what="one entry per engaged request with >= 2 candidates, gold ranking from the log",
)
item_ranking_entries = step_asset(ENTRIES)
