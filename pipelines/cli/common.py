"""Console output of the commands about runs: check failures, run links, the key warning (rich).

The console and `print_table` are `core.console`'s (re-exported here for the commands).
"""

from __future__ import annotations

import warnings

from rich.console import Console
from rich.text import Text

from core.console import console, console_for, default_console, print_table
from core.settings import Settings, warn_if_default_key
from pipelines.runner import RunReport, run_url

__all__ = [
    "console",
    "console_for",
    "default_console",
    "print_check_failures",
    "print_runs",
    "print_table",
    "runs_json",
    "warn_about_key",
]


def warn_about_key(settings: Settings, out: Console | None = None) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn_if_default_key(settings)
    for w in caught:
        (out or console).print(Text.assemble(("WARNING: ", "bold yellow"), str(w.message)))
    # Said once here; the assets repeat it per domain and table, which only adds noise.
    warnings.filterwarnings("ignore", message="RECRM_HASH_KEY is not set")


def runs_json(report: RunReport, settings: Settings) -> list[dict]:
    return [
        {
            "job": r.job,
            "domain": r.partition,
            "run_id": r.run_id,
            "success": r.success,
            "seconds": round(r.seconds, 1),
            "url": run_url(settings, r.run_id),
            "data_docs": r.data_docs,
        }
        for r in report.runs
    ]


def print_runs(report: RunReport, settings: Settings, out: Console | None = None) -> None:
    """Each Dagster run of the command, one line each (never cut): job, domain, time, its page
    in the UI (the URL ends with the run id); then the Data Docs site of the checks."""
    out = out or console
    runs = runs_json(report, settings)
    if runs:
        out.print("Dagster runs (open the links while `dagster dev` runs):", markup=False)
    for r in runs:
        where = f"{r['job']} {r['domain']}" if r["domain"] else r["job"]
        state = "" if r["success"] else " FAILED"
        out.print(
            f"  {where} ({r['seconds']:.1f}s){state}: {r['url']}", markup=False, soft_wrap=True
        )
    docs = [r.data_docs for r in report.runs if r.data_docs]
    if docs:
        out.print(f"Data Docs (validation results): {docs[-1]}", markup=False, soft_wrap=True)


def print_check_failures(report: RunReport, out: Console | None = None) -> None:
    """Each failed check's failed expectations: how many rows, a few examples (one line each)."""
    out = out or console
    lines = []
    # The meaning checks' failures are the cause of the others (row counts, expectations):
    # printed first, one line each.
    causes = [
        cause
        for check in report.checks
        if not check.passed and check.check == "meaning"
        for cause in (check.metadata.get("causes") or [])
    ]
    if causes:
        out.print("[bold]cause[/bold]")
        for cause in causes:
            out.print("  ✗ " + cause, soft_wrap=True, markup=False)
    for check in report.checks:
        if check.passed or (check.check == "meaning" and check.metadata.get("causes")):
            continue
        domain = check.metadata.get("domain")
        where = f"{check.asset}:{check.check}" + (f" [{domain}]" if domain else "")
        failures = check.metadata.get("failed_expectations") or []
        if not failures:
            reason = check.metadata.get("error") or check.metadata.get("note") or "failed"
            lines.append(f"{where} ({check.severity}): {reason}")
        for f in failures:
            text = f["expectation"] + (f"({f['column']})" if f.get("column") else "")
            if f.get("unexpected_count") is not None:
                text += f": {f['unexpected_count']} of {f.get('element_count')} rows"
            elif f.get("observed"):
                text += f": observed {f['observed']}"
            if f.get("examples"):
                text += "; e.g. " + " | ".join(f["examples"])
            lines.append(f"{where} ({check.severity}): {text}")
    if lines:
        out.print("[bold]failed expectations[/bold]")
        for line in lines:
            out.print("  ✗ " + line, soft_wrap=True, markup=False)
