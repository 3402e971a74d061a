"""Dagster definition of [behavior_prediction, entries]."""

from assets.dimensions.behavior_prediction.build import DIMENSION, write_behavior_entries
from assets.dimensions.common.entries_step import ENTRY_COMMON, STAGING, LogEntriesStep
from assets.steps.dagster import step_asset
from schemas import tables


def _write(wh, domain, seed, profile) -> dict:
    return write_behavior_entries(wh, domain, seed, profile.split_fractions)


ENTRIES = LogEntriesStep(
    DIMENSION,
    _write,
    reads=(*STAGING, tables.raw("users"), *ENTRY_COMMON),
    what="one entry per shown item, labelled 0 shown / 1 clicked / 2 ordered from the log",
)
behavior_prediction_entries = step_asset(ENTRIES)
