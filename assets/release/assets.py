"""The `["release"]` step: shards, manifest and dataset card of every dimension's benchmark table.

It runs only when every `[<dimension>, "benchmark"]` asset and its blocking expectation check
succeeded; `assets.release.publish` does the work. Besides the benchmark tables it reads what the
manifest records: the ingested files and domain settings, the requests (each domain's split cut),
the entries left out and the LLM usage.
"""

from dataclasses import dataclass
from typing import ClassVar

from dagster import MetadataValue

from assets.release.publish import publish_release
from assets.steps.contract import BuildContext, Step, StepResult
from assets.steps.dagster import step_asset
from assets.table_metadata import ROW_COUNT, records_table
from core.warehouse import Warehouse
from schemas import tables
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


@dataclass(frozen=True)
class ReleaseStep(Step):
    """["release"]: the benchmark tables published as a versioned release folder."""

    key: ClassVar[tuple[str, ...]] = ("release",)
    group: ClassVar[str] = "release"
    writes: ClassVar[tables.Table] = tables.RELEASES
    description: ClassVar[str] = (
        "Versioned, reproducible release under `releases/<version>/`: Parquet shards per "
        "dimension and split, `manifest.json` and the dataset card, published atomically."
    )
    kinds: ClassVar[frozenset[str]] = frozenset({"parquet"})

    @property
    def reads(self) -> tuple[tables.Table, ...]:
        return (
            *(tables.benchmark(d) for d in DIMENSIONS),
            tables.INGEST_FILES,
            tables.DOMAIN_SETTINGS,
            tables.raw("requests"),
            tables.LEFT_OUT,
            tables.LLM_USAGE,
        )

    def run(self, ctx: BuildContext, wh: Warehouse, domain: str | None) -> StepResult:
        published = publish_release(wh, ctx.settings)
        manifest = published.manifest
        if published.reused:
            ctx.log.info(f"release {published.version} already exists with identical shards")
        rows = manifest["totals"]["rows"]
        return StepResult(
            rows,
            {
                ROW_COUNT: rows,
                "rows": rows,
                "version": published.version,
                "path": MetadataValue.path(str(published.path)),
                "reused_existing": published.reused,
                "summary": summary_table(release_summary(manifest)),
                "llm_usage": usage_table(manifest["totals"]["llm_usage"]),
                "inputs_fingerprint": manifest["inputs"]["fingerprint"],
            },
        )


RELEASE_STEP = ReleaseStep()
release = step_asset(RELEASE_STEP)


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
