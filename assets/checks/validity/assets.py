"""The blocking `["release"]:validity` asset check: the validity gate (`gate.py`) on the release
just published. A release whose labels can be read off a shortcut, that leaks held-out units into
train, or whose relevance labels disagree with the drop's truth fails it, and nothing downstream
of the release (evaluation) runs on it. Thresholds: `[recrm.validity]` in recrm.toml."""

from dataclasses import dataclass
from typing import ClassVar

from dagster import MetadataValue

from assets.checks.validity.gate import describe_row, release_validity
from assets.steps.contract import BuildContext, Check, CheckResult
from assets.steps.dagster import step_check
from core.warehouse import Warehouse
from schemas import tables


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


@dataclass(frozen=True)
class ReleaseValidity(Check):
    """["release"]:validity (blocking): the validity gate on the release the step last published."""

    asset: ClassVar[tuple[str, ...]] = tables.RELEASES.producers[0]  # ["release"]
    name: ClassVar[str] = "validity"
    blocking: ClassVar[bool] = True
    description: ClassVar[str] = (
        "shortcut baselines (marker rule, response-only classifier, synthetic detector, "
        "length, position), the leak audit and relevance agreement with the drop's truth"
    )
    reads: ClassVar[tuple[tables.Table, ...]] = (tables.RELEASES,)

    def run(self, ctx: BuildContext, wh: Warehouse | None, domain: str | None) -> CheckResult:
        published = ctx.materialized(self.asset) or {}
        path = published.get("path")
        if path is None:
            return CheckResult(False, {"error": "no published release found"})
        report = release_validity(path, ctx.settings)
        table = report.as_dict()["rows"]
        failures = [describe_row(r) for r in report.failures]
        return CheckResult(
            report.passed,
            {
                "release": MetadataValue.path(str(path)),
                "rows": len(table),
                "failed_count": len(failures),
                "validity": MetadataValue.md(validity_markdown(table)),
                "table": MetadataValue.json(table),
                **(
                    {"error": " | ".join(" ".join(f.split()) for f in failures)} if failures else {}
                ),
            },
        )


release_validity_check = step_check(ReleaseValidity())
