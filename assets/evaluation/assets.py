"""The `evaluation` group under the step contract, partitioned by scorer name (one dynamic
partition per `recrm eval --name`, which registers it with its spec under results/.scorers/).

- `evaluation/scorer` (a `Source`, observed): per name, a data version from its configuration
  hash and its release's manifest sha256. `recrm eval` observes it before every evaluation (in
  the UI: "Observe sources"), so a result shows stale only when its configuration or its release
  changed.
- `evaluation/result` (a `Step` that reads the specs): runs the evaluation of one name
  (assets/evaluation/run.py) and shows its metrics with intervals and its chart.
Neither opens the warehouse: an evaluation reads a published release (the spec names it).
"""

import base64
import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from dagster import MetadataValue

from assets.evaluation.chart import render_chart
from assets.evaluation.leaderboard import board_row, column_name
from assets.evaluation.release import manifest_sha256
from assets.evaluation.results import SUMMARY_FILE, load_spec
from assets.evaluation.run import evaluate
from assets.evaluation.spec import data_version
from assets.steps.contract import BuildContext, Source, Step, StepResult
from assets.steps.dagster import source_asset, step_asset
from assets.table_metadata import ROW_COUNT, TABLE_NAME, records_table
from schemas import tables
from schemas.evaluation import PAPER_COLUMNS, SHORT_NAMES


def scorer_versions(results_dir: Path, names: list[str]) -> dict[str, str]:
    """name -> data version, for the names whose spec and release can be read."""
    versions = {}
    for name in names:
        try:
            spec = load_spec(results_dir, name)
            versions[name] = data_version(spec, manifest_sha256(Path(spec.release)))
        except (FileNotFoundError, ValueError):
            continue  # unregistered, or its release is gone: nothing to compare against
    return versions


@dataclass(frozen=True)
class ScorerSource(Source):
    """evaluation/scorer: the registered evaluations, each versioned by its spec and release."""

    key: ClassVar[tuple[str, ...]] = ("evaluation", "scorer")
    group: ClassVar[str] = "evaluation"
    writes: ClassVar[tables.Table] = tables.EVALUATION_SPECS
    description: ClassVar[str] = (
        "Each evaluation's configuration and release (data version: config hash + "
        "release manifest sha256)."
    )
    kinds: ClassVar[frozenset[str]] = frozenset({"json"})
    resources: ClassVar[frozenset[str]] = frozenset({"evaluation"})

    def observe(self, ctx: BuildContext, partitions: list[str]) -> dict[str, str]:
        return scorer_versions(ctx.results_dir, partitions)


scorer = source_asset(ScorerSource())


def metrics_markdown(summary: dict) -> str:
    """Every metric of every dimension, x100 with its 95% interval."""
    lines = [
        "| dimension | metric | value | 95% interval | entries | invalid |",
        "|---|---|---:|---|---:|---:|",
    ]
    for dim, figures in summary["dimensions"].items():
        for metric, f in figures["metrics"].items():
            value = "–" if f["value"] is None else f"{f['value'] * 100:.2f}"
            interval = "" if f["low"] is None else f"{f['low'] * 100:.2f} – {f['high'] * 100:.2f}"
            lines.append(
                f"| {SHORT_NAMES[dim]} | {metric} | {value} | {interval} | {figures['entries']} | "
                f"{figures['invalid_rate'] * 100:.1f}% |"
            )
    return "\n".join(lines)


def chart_markdown(summary: dict) -> str:
    board = {
        "release": summary["release"],
        "split": summary["evaluation"]["split"],
        "rows": [board_row(summary)],
    }
    encoded = base64.b64encode(render_chart(board)).decode("ascii")
    return f"![{summary['name']}](data:image/png;base64,{encoded})"


def result_metadata(summary: dict, folder: Path) -> dict:
    headline = {}
    for dim, label, metric in PAPER_COLUMNS:
        figure = summary["dimensions"].get(dim, {}).get("metrics", {}).get(metric)
        if figure and figure["value"] is not None:
            headline[column_name(dim, label)] = round(figure["value"] * 100, 2)
    return {
        "metrics": MetadataValue.md(metrics_markdown(summary)),
        "chart": MetadataValue.md(chart_markdown(summary)),
        **headline,
        "entries": sum(f["entries"] for f in summary["dimensions"].values()),
        ROW_COUNT: sum(f["entries"] for f in summary["dimensions"].values()),
        TABLE_NAME: str(folder / "items.parquet"),
        "invalid_rate": records_table(
            [
                {"dimension": d, "invalid_rate": f["invalid_rate"]}
                for d, f in summary["dimensions"].items()
            ],
            {"dimension": "string", "invalid_rate": "float"},
        ),
        "release": summary["release"]["version"],
        "scorer": MetadataValue.md(
            "\n".join(f"- **{k}**: `{v}`" for k, v in sorted(summary["scorer"].items()))
        ),
        "llm_usage": records_table(
            [summary["llm_usage"]] if summary["llm_usage"] else [],
            {k: "int" for k in summary["llm_usage"] or {}},
        ),
        "summary": MetadataValue.path(str(folder / SUMMARY_FILE)),
    }


@dataclass(frozen=True)
class EvaluationStep(Step):
    """evaluation/result: one evaluation's items and summary, with its metrics in the UI."""

    key: ClassVar[tuple[str, ...]] = ("evaluation", "result")
    group: ClassVar[str] = "evaluation"
    reads: ClassVar[tuple[tables.Table, ...]] = (tables.EVALUATION_SPECS,)
    writes: ClassVar[tables.Table] = tables.EVALUATION_RESULTS
    description: ClassVar[str] = (
        "One evaluation's `items.parquet` and `summary.json` under "
        "`results/<release version>/<name>/` (metrics with 95% bootstrap intervals)."
    )
    kinds: ClassVar[frozenset[str]] = frozenset({"parquet"})
    resources: ClassVar[frozenset[str]] = frozenset({"evaluation"})

    def run(self, ctx: BuildContext, wh: None, domain: str | None) -> StepResult:
        spec = load_spec(ctx.results_dir, domain)  # the partition: the evaluation's name
        ctx.log.info(f"evaluating {spec.name}: {spec.scorer.describe()} on {spec.release}")
        calls = {"n": 0, "logged": time.monotonic()}

        def progress() -> None:  # judge calls, logged at most every 10 s (the run's event log)
            calls["n"] += 1
            if time.monotonic() - calls["logged"] >= 10:
                calls["logged"] = time.monotonic()
                ctx.log.info(f"{calls['n']} judge calls answered")

        evaluated = evaluate(spec, ctx.results_dir, on_call=progress)
        summary = evaluated.summary
        return StepResult(
            sum(f["entries"] for f in summary["dimensions"].values()),
            result_metadata(summary, evaluated.path),
            data_version=summary["data_version"],
        )


result = step_asset(EvaluationStep())
