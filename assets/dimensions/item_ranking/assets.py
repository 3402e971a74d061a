"""Dagster definition of [item_ranking, entries]."""

from dagster import AssetKey

from assets.dimensions.common.asset_factory import STAGING, entries_asset
from assets.dimensions.item_ranking.build import DIMENSION, write_ranking_entries

item_ranking_entries = entries_asset(
    DIMENSION,
    lambda wh, domain, seed, profile: write_ranking_entries(
        wh, domain, seed, profile.split_fractions
    ),
    deps=[*STAGING, AssetKey(["ingest", "domain_settings"])],
    description="one entry per engaged request with >= 2 candidates, gold ranking from the log",
)
