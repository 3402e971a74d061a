"""Dagster definition of [repurchase_prediction, entries]: the one step this dimension adds.
The shared layers (judged pass-through, benchmark selection, expectation checks, release) are
made for every registered dimension by the project."""

from assets.dimensions.common.entries_step import ENTRY_COMMON, STAGING, LogEntriesStep
from assets.steps.dagster import step_asset
from recrm_repurchase.build import write_repurchase_entries
from recrm_repurchase.dimension import NAME


def _write(wh, domain, seed, profile) -> dict:
    return write_repurchase_entries(wh, domain, seed, profile.split_fractions)


ENTRIES = LogEntriesStep(
    NAME,
    _write,
    reads=(*STAGING, *ENTRY_COMMON),
    what="one entry per first order of an item by a user, labelled 1 when the user orders it"
    " again within the horizon (3 days), from the logged orders",
)
repurchase_prediction_entries = step_asset(ENTRIES)
