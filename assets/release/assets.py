"""The `["release"]` asset: shards, manifest and dataset card of the five benchmark tables.

It runs only when every `[<dimension>, "benchmark"]` asset and its blocking expectation check
succeeded; `assets.release.publish` does the work.
"""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from assets.release.publish import publish_release
from pipelines.resources import BuildSettings, WarehouseResource
from schemas.entries import DIMENSIONS, SPLITS


def release_summary(manifest: dict) -> list[dict]:
    """Per dimension and split: rows, shards and label distribution (for the CLI and the UI)."""
    return [
        {
            "dimension": dim,
            "split": split,
            "rows": info["rows"],
            "shards": len(info["shards"]),
            "labels": info["label_distribution"],
        }
        for dim in DIMENSIONS
        if dim in manifest["dimensions"]
        for split in SPLITS
        if (info := manifest["dimensions"][dim]["splits"].get(split)) is not None
    ]


@asset(
    key=["release"],
    group_name="release",
    deps=[AssetKey([d, "benchmark"]) for d in DIMENSIONS],
    description="Versioned, reproducible release under releases/<version>/, published atomically.",
)
def release(
    context: AssetExecutionContext, warehouse: WarehouseResource, build: BuildSettings
) -> MaterializeResult:
    settings = build.settings(warehouse_path=warehouse.path)
    with warehouse.session() as wh:
        published = publish_release(wh, settings)
    manifest = published.manifest
    if published.reused:
        context.log.info(f"release {published.version} already exists with identical shards")
    return MaterializeResult(
        metadata={
            "rows": manifest["totals"]["rows"],
            "version": published.version,
            "path": MetadataValue.path(str(published.path)),
            "reused_existing": published.reused,
            "summary": MetadataValue.json(release_summary(manifest)),
            "llm_usage": MetadataValue.json(manifest["totals"]["llm_usage"]),
            "inputs_fingerprint": manifest["inputs"]["fingerprint"],
        }
    )
