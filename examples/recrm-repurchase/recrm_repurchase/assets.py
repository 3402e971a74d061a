"""Dagster definition of [repurchase_prediction, entries]: the one step this dimension adds.
The shared layers (judged pass-through, benchmark selection, expectation checks, release) are
made for every registered dimension by the project."""

from dagster import AssetKey

from assets.dimensions.common.asset_factory import STAGING, entries_asset
from recrm_repurchase.build import write_repurchase_entries
from recrm_repurchase.dimension import NAME

repurchase_prediction_entries = entries_asset(
    NAME,
    lambda wh, domain, seed, profile: write_repurchase_entries(
        wh, domain, seed, profile.split_fractions
    ),
    deps=[*STAGING, AssetKey(["ingest", "domain_settings"])],
    description="one entry per first order of an item by a user, labelled 1 when the user"
    " orders it again within the horizon (3 days), from the logged orders",
)
