"""Dagster definition of [behavior_prediction, entries]."""

from dagster import AssetKey

from assets.dimensions.behavior_prediction.build import DIMENSION, write_behavior_entries
from assets.dimensions.common.asset_factory import STAGING, entries_asset

behavior_prediction_entries = entries_asset(
    DIMENSION,
    lambda wh, domain, seed, profile: write_behavior_entries(
        wh, domain, seed, profile.split_fractions
    ),
    deps=[*STAGING, AssetKey(["ingest", "domain_settings"])],
    description="one entry per shown item, labelled 0 shown / 1 clicked / 2 ordered from the log",
)
