"""Per-step progress of a build: `step i/n · job · domain · step · elapsed · rows`.

On a terminal one status line is updated in place; otherwise (CI logs, pipes) each finished step
is one line. Text is never read as rich markup, so a domain such as `[hotel]` prints as it is.
With `--json` the lines go to stderr and stdout holds only the JSON document.
"""

from __future__ import annotations

from contextlib import contextmanager

from rich.console import Console
from rich.text import Text

from pipelines.runner import StepProgress


def format_elapsed(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"


def step_line(p: StepProgress) -> str:
    where = f"{p.job} {p.partition}" if p.partition else p.job
    rows = f" · {p.rows:,} rows" if p.rows is not None else ""
    status = "" if p.status in ("started", "succeeded") else f" · {p.status}"
    return (
        f"step {p.index}/{p.total} · {where} · {p.step} · {format_elapsed(p.elapsed)}{rows}{status}"
    )


@contextmanager
def step_progress(console: Console):
    """Yields the on_progress callback of `pipelines.runner.run_jobs`."""
    if console.is_terminal:
        with console.status(Text("starting")) as status:

            def update(p: StepProgress) -> None:
                status.update(Text(step_line(p)))
                if p.status == "failed":
                    console.print(Text(step_line(p)))

            yield update
    else:

        def line(p: StepProgress) -> None:
            if p.status != "started":
                console.print(Text(step_line(p)), soft_wrap=True)

        yield line
