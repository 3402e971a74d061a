"""Jobs: one domain (partitioned, ingest through entries), and the release over all domains.

Asset groups are the layers: `ingest`, `staging`, one group per dimension (partitioned, per
domain), `benchmark` (all domains together: selection to the size profile) and `release`.
"""

from dagster import AssetKey, AssetSelection, define_asset_job

from assets.partitions import DOMAINS
from schemas.entries import DIMENSIONS

INGEST = AssetSelection.groups("ingest")
DOMAIN_LAYERS = AssetSelection.groups("ingest", "staging", *DIMENSIONS)
RELEASE_LAYERS = AssetSelection.groups("benchmark", "release")


def domain_layers(dimensions: list[str]) -> AssetSelection:
    """DOMAIN_LAYERS for a release of only `dimensions` (capability-aware builds)."""
    return AssetSelection.groups("ingest", "staging", *dimensions)


def release_layers(dimensions: list[str]) -> AssetSelection:
    """RELEASE_LAYERS for a release of only `dimensions`: their benchmark assets and the release."""
    benchmarks = [AssetKey([d, "benchmark"]) for d in dimensions]
    return AssetSelection.assets(*benchmarks, AssetKey(["release"]))


ingest_job = define_asset_job(
    "ingest_domain",
    selection=INGEST,
    partitions_def=DOMAINS,
    description="Ingest one domain's log drop into the warehouse.",
)
domain_job = define_asset_job(
    "build_domain",
    selection=DOMAIN_LAYERS,
    partitions_def=DOMAINS,
    description="Ingest one domain and build its entries for every dimension.",
)
release_job = define_asset_job(
    "publish_release",
    selection=RELEASE_LAYERS,
    description="Select, validate and publish a release from every domain's entries.",
)

JOBS = [ingest_job, domain_job, release_job]
