"""The `["release"]` asset: shards, manifest and dataset card of the five benchmark tables.

It runs only when every `[<dimension>, "benchmark"]` asset and its blocking expectation check
succeeded; `assets.release.publish` does the work.
"""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from assets.release.publish import publish_release
from assets.resources import BuildSettings, WarehouseResource
from assets.table_metadata import ROW_COUNT, records_table
from schemas.entries import DIMENSIONS, LABEL_COLUMN, SPLITS


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
    description=(
        "Versioned, reproducible release under `releases/<version>/`: Parquet shards per "
        "dimension and split, `manifest.json` and the dataset card, published atomically."
    ),
    kinds={"parquet"},
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
            ROW_COUNT: manifest["totals"]["rows"],
            "rows": manifest["totals"]["rows"],
            "version": published.version,
            "path": MetadataValue.path(str(published.path)),
            "reused_existing": published.reused,
            "summary": summary_table(release_summary(manifest)),
            "llm_usage": usage_table(manifest["totals"]["llm_usage"]),
            "inputs_fingerprint": manifest["inputs"]["fingerprint"],
        }
    )


def _labels_text(labels: dict) -> str:
    """`label: rows` in numeric label order (so "10" sorts after "5")."""

    def order(key: str) -> tuple:
        return (0, int(key), "") if key.lstrip("-").isdigit() else (1, 0, key)

    return ", ".join(f"{k}: {labels[k]}" for k in sorted(labels, key=order))


def summary_table(summary: list[dict]) -> MetadataValue:
    """The release summary as a table in the UI: one row per dimension and split."""
    # item_ranking's distribution is keyed by the candidate list's length, not by a label.
    rows = [
        {
            **s,
            "labels": ("candidates " if LABEL_COLUMN[s["dimension"]] == "gold_ranking" else "")
            + _labels_text(s["labels"]),
        }
        for s in summary
    ]
    columns = {"dimension": "string", "split": "string", "rows": "int", "shards": "int"}
    return records_table(rows, columns | {"labels": "string"})


def usage_table(usage: dict) -> MetadataValue:
    """LLM usage of the build as a one-row table (calls, cached calls, tokens, failures)."""
    return records_table([usage], {k: "int" for k in usage})
