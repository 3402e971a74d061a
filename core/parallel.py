"""Row-independent Python work on every core: a frame is cut into contiguous slices, each slice
goes through the same plain function, and the results come back in slice order.

The transcript dimensions label agent turns with Python parsers and verifiers (GIL-bound), while
DuckDB and polars already use every core on their own. The slices run in worker processes
(started with `spawn`: forking a process that runs DuckDB and polars thread pools can deadlock);
the calling process works on one slice of each round itself. The pool is started on first use,
reused by later calls, and stopped after IDLE_SECONDS without work, so its processes hold no
memory while the rest of a build runs. `RECRM_WORKERS=1` runs everything in the calling process.

A function given to `map_slices` must be defined at module level (workers import it by name)
and must not depend on the slice boundaries: each result depends on its own rows only. Workers
do not run the caller's main script again (as `spawn` would by default): a script without an
`if __name__ == "__main__"` guard would otherwise run once more in every worker.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import TypeVar

import polars as pl

WORKERS_ENV = "RECRM_WORKERS"
MIN_SLICE_ROWS = 2_000  # below this a slice costs more to ship than to compute
# Above this a frame is cut into more slices than processes: a slice's rows become Python
# objects while it is worked (a transcript turn's evidence: thousands of dicts), and half of the
# 424k turns of a domain at 10x the paper's input held 11 GiB in the calling process.
MAX_SLICE_ROWS = 20_000
IDLE_SECONDS = 20.0

R = TypeVar("R")


def worker_count() -> int:
    """Processes to use (the caller included): RECRM_WORKERS, else the machine's cores."""
    value = os.environ.get(WORKERS_ENV)
    if value:
        try:
            count = int(value)
        except ValueError:
            raise ValueError(f"{WORKERS_ENV} must be a whole number, got {value!r}") from None
        if count < 1:
            raise ValueError(f"{WORKERS_ENV} must be at least 1, got {count}")
        return count
    return max(1, os.cpu_count() or 1)


class _Pool:
    """One lazily started process pool, stopped when idle for IDLE_SECONDS."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._size = 0
        self._busy = 0
        self._last_used = 0.0
        self._timer: threading.Timer | None = None

    def acquire(self, size: int) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is not None and self._size != size:
                self._executor.shutdown(wait=True)
                self._executor = None
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    max_workers=size, mp_context=multiprocessing.get_context("spawn")
                )
                self._size = size
            self._busy += 1
            return self._executor

    def release(self) -> None:
        with self._lock:
            self._busy -= 1
            self._last_used = time.monotonic()
            if self._timer is None:
                self._timer = threading.Timer(IDLE_SECONDS, self._stop_if_idle)
                self._timer.daemon = True
                self._timer.start()

    def _stop_if_idle(self) -> None:
        with self._lock:
            self._timer = None
            idle = time.monotonic() - self._last_used
            if self._busy or self._executor is None:
                return
            if idle < IDLE_SECONDS:
                self._timer = threading.Timer(IDLE_SECONDS - idle, self._stop_if_idle)
                self._timer.daemon = True
                self._timer.start()
                return
            executor, self._executor = self._executor, None
        executor.shutdown(wait=True)

    def shutdown(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        if executor is not None:
            executor.shutdown(wait=True)

    @property
    def running(self) -> bool:
        return self._executor is not None


_POOL = _Pool()
atexit.register(_POOL.shutdown)


def pool_running() -> bool:
    """Whether worker processes are alive (for tests and benchmarks)."""
    return _POOL.running


def stop_workers() -> None:
    """Stop the worker processes now (they start again on the next call)."""
    _POOL.shutdown()


@contextmanager
def _main_script_hidden() -> Iterator[None]:
    """While worker processes start, hide the main module's file and spec: `spawn` would import
    it again in each worker, and nothing a worker runs lives there."""
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    saved = {k: main.__dict__[k] for k in ("__file__", "__spec__") if k in main.__dict__}
    main.__dict__.pop("__file__", None)
    main.__spec__ = None
    try:
        yield
    finally:
        main.__dict__.pop("__spec__", None)
        main.__dict__.update(saved)


def slice_bounds(rows: int, slices: int) -> list[tuple[int, int]]:
    """(offset, length) of `slices` contiguous slices of nearly equal size covering `rows`."""
    slices = max(1, min(slices, rows))
    base, extra = divmod(rows, slices)
    bounds, start = [], 0
    for i in range(slices):
        length = base + (1 if i < extra else 0)
        bounds.append((start, length))
        start += length
    return bounds


def map_slices(
    fn: Callable[[pl.DataFrame, int], R],
    frame: pl.DataFrame,
    min_slice_rows: int | None = None,
) -> list[R]:
    """[fn(slice, offset) for each contiguous slice of `frame`], in order; `offset` is the
    slice's first row in `frame` (for messages that name a row). One slice, run here, when the
    frame is small or one worker is configured; else one slice per process, or a multiple of
    that keeping every slice under MAX_SLICE_ROWS, every process taking its turn."""
    least = MIN_SLICE_ROWS if min_slice_rows is None else min_slice_rows
    workers = max(1, min(worker_count(), frame.height // max(1, least)))
    rounds = max(1, -(-frame.height // (workers * MAX_SLICE_ROWS)))  # keeps slices under MAX
    bounds = slice_bounds(frame.height, workers * rounds)
    if workers == 1:
        return [fn(frame.slice(offset, length), offset) for offset, length in bounds]
    executor = _POOL.acquire(workers - 1)
    try:
        results: list = [None] * len(bounds)
        # Each round: workers - 1 slices to the pool (converted to Arrow only then), one here.
        for first in range(0, len(bounds), workers):
            with _main_script_hidden():  # submit starts the workers the pool still lacks
                futures = [
                    (i, executor.submit(_run_on_arrow, fn, frame.slice(o, n).to_arrow(), o))
                    for i, (o, n) in enumerate(bounds[first : first + workers - 1], start=first)
                ]
            here = first + workers - 1
            offset, length = bounds[here]
            results[here] = fn(frame.slice(offset, length), offset)
            for i, future in futures:
                results[i] = future.result()
        return results
    except BrokenProcessPool:
        _POOL.shutdown()  # a worker died (killed, out of memory): start afresh next time
        raise
    finally:
        _POOL.release()


def _run_on_arrow(fn: Callable[[pl.DataFrame, int], R], table, offset: int) -> R:
    # Arrow tables cross the process boundary at about twice the speed of polars frames.
    return fn(pl.from_arrow(table), offset)


def merge_counts(parts: list[dict]) -> dict:
    """Stats of slices added up: numbers summed, nested dicts merged the same way (sorted keys);
    any other value is taken from the first part that has it."""
    out: dict = {}
    for part in parts:
        for key, value in part.items():
            if key not in out:
                out[key] = dict(value) if isinstance(value, dict) else value
            elif isinstance(value, dict):
                out[key] = merge_counts([out[key], value])
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                out[key] = out[key] + value
    return {k: (dict(sorted(v.items())) if isinstance(v, dict) else v) for k, v in out.items()}
