"""Console output shared by the commands: progress and summary tables (rich)."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from core.settings import Settings, warn_if_default_key
from pipelines.runner import RunReport

console = Console(stderr=False, highlight=False)


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    table = Table(title=title, title_justify="left")
    for i, col in enumerate(columns):
        table.add_column(col, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(
            *("" if v is None else f"{v:,}" if isinstance(v, int) else _shown(str(v)) for v in row)
        )
    console.print(table)


def _shown(text: str) -> str:
    """Text from the data (file names, reasons) as printed: rich markup escaped, control
    characters shown escaped rather than sent to the terminal."""
    return escape("".join(c if c.isprintable() else repr(c)[1:-1] for c in text))


def warn_about_key(settings: Settings) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn_if_default_key(settings)
    for w in caught:
        console.print(f"[bold yellow]WARNING:[/bold yellow] {w.message}")
    # Said once here; the assets repeat it per domain and table, which only adds noise.
    warnings.filterwarnings("ignore", message="RECRM_HASH_KEY is not set")


def print_check_failures(report: RunReport) -> None:
    """Each failed check's failed expectations: how many rows, a few examples (one line each)."""
    lines = []
    for check in report.checks:
        if check.passed:
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
        console.print("[bold]failed expectations[/bold]")
        for line in lines:
            console.print("  ✗ " + line, soft_wrap=True, markup=False)
