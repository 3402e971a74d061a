"""Console output shared by the commands: progress and summary tables (rich)."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence

from rich.console import Console
from rich.table import Table

from core.settings import Settings, warn_if_default_key

console = Console(stderr=False, highlight=False)


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    table = Table(title=title, title_justify="left")
    for i, col in enumerate(columns):
        table.add_column(col, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(
            *("" if v is None else f"{v:,}" if isinstance(v, int) else str(v) for v in row)
        )
    console.print(table)


def warn_about_key(settings: Settings) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn_if_default_key(settings)
    for w in caught:
        console.print(f"[bold yellow]WARNING:[/bold yellow] {w.message}")
    # Said once here; the assets repeat it per domain and table, which only adds noise.
    warnings.filterwarnings("ignore", message="RECRM_HASH_KEY is not set")
