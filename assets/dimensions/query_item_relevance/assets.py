"""Dagster definition of [query_item_relevance, entries]."""

from assets.dimensions.common.entries import write_entries
from assets.dimensions.common.entries_step import ENTRY_COMMON, STAGING, LogEntriesStep
from assets.dimensions.query_item_relevance.build import DIMENSION, build_relevance_entries
from assets.steps.dagster import step_asset
from schemas import tables


def _write(wh, domain, seed, profile) -> dict:
    # The per-domain sample is capped at the profile's count: the benchmark selection then takes
    # each domain's proportional share of the deduplicated pool.
    entries, metadata = build_relevance_entries(
        wh, domain, seed, profile.split_fractions, cap=profile.counts.get(DIMENSION)
    )
    held_out = metadata.pop("held_out")
    return {**write_entries(wh, DIMENSION, domain, entries, held_out), **metadata}


ENTRIES = LogEntriesStep(
    DIMENSION,
    _write,
    reads=(*STAGING, tables.raw("annotations"), *ENTRY_COMMON),
    what="(query, item) pairs graded 0-3 (ESCI): expert labels, else the evidence labeler",
)
query_item_relevance_entries = step_asset(ENTRIES)
