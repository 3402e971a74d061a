"""Console output shared by every command and layer: the console, and summary tables (rich).

Values are never read as rich markup (a domain named `[hotel]` prints as it is). With `--json`
a command prints through `console_for(True)`, which writes to stderr, so stdout holds only JSON.
It lives in `core` so that the release validator and the log generator print the same way as the
`recrm` commands without importing the code location.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

console = Console(stderr=False, highlight=False)


def default_console() -> Console:
    return console


def console_for(json_output: bool) -> Console:
    """stdout's console, or with --json one on stderr (stdout is the JSON document's)."""
    return Console(stderr=True, highlight=False) if json_output else console


def print_table(
    title: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
    out: Console | None = None,
) -> None:
    table = Table(title=Text(title), title_justify="left")
    for i, col in enumerate(columns):
        table.add_column(Text(col), justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(
            *(
                Text("" if v is None else f"{v:,}" if isinstance(v, int) else _shown(str(v)))
                for v in row
            )
        )
    (out or console).print(table)


def _shown(text: str) -> str:
    """Text from the data (file names, reasons) as printed: control characters shown escaped
    rather than sent to the terminal (cells are `Text`, so markup is not interpreted)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
