"""The blocking `["release"]:validity` asset check: the validity gate (`gate.py`) on the release
just published. A release whose labels can be read off a shortcut, that leaks held-out units into
train, or whose relevance labels disagree with the drop's truth fails it, and nothing downstream
of the release (evaluation) runs on it. Thresholds: `[recrm.validity]` in recrm.toml."""

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetKey,
    MetadataValue,
    asset_check,
)

from assets.checks.validity.gate import describe_row, release_validity
from assets.resources import BuildSettings, WarehouseResource

RELEASE = AssetKey(["release"])


def validity_markdown(rows: list[dict]) -> str:
    lines = [
        "| check | dimension | value | bound | status | detail |",
        "|---|---|---:|---|---|---|",
    ]
    for r in rows:
        value = "n/a" if r["value"] is None else f"{r['value']:.4f}"
        if r.get("low") is not None and r.get("high") is not None:
            value += f" [{r['low']:.3f}, {r['high']:.3f}]"
        lines.append(
            f"| {r['check']} | {r['dimension']} | {value} | {r['bound']} {r['threshold']:g} "
            f"| {r['status']} | {r['detail']} |"
        )
    return "\n".join(lines)


@asset_check(
    asset=RELEASE,
    name="validity",
    blocking=True,
    description="shortcut baselines (marker rule, response-only classifier, synthetic detector, "
    "length, position), the leak audit and relevance agreement with the drop's truth",
)
def release_validity_check(
    context: AssetCheckExecutionContext, warehouse: WarehouseResource, build: BuildSettings
) -> AssetCheckResult:
    settings = build.settings(warehouse_path=warehouse.path)
    event = context.instance.get_latest_materialization_event(RELEASE)
    path = event.asset_materialization.metadata.get("path") if event else None
    if path is None:
        return AssetCheckResult(passed=False, metadata={"error": "no published release found"})
    report = release_validity(path.value, settings)
    table = report.as_dict()["rows"]
    failures = [describe_row(r) for r in report.failures]
    return AssetCheckResult(
        passed=report.passed,
        metadata={
            "release": MetadataValue.path(str(path.value)),
            "rows": len(table),
            "failed_count": len(failures),
            "validity": MetadataValue.md(validity_markdown(table)),
            "table": MetadataValue.json(table),
            **({"error": " | ".join(" ".join(f.split()) for f in failures)} if failures else {}),
        },
    )
