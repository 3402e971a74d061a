"""Slices of a frame run in worker processes and come back in order, identical to one pass."""

import os
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from core import parallel
from core.parallel import map_slices, merge_counts, slice_bounds

HERE = Path(__file__).parent
REPO = HERE.parents[1]


@pytest.fixture
def probe(monkeypatch):
    """The probe module, importable by workers started from now on; two processes."""
    parallel.stop_workers()  # workers started earlier do not have this folder on their path
    monkeypatch.syspath_prepend(str(HERE))
    monkeypatch.setenv(parallel.WORKERS_ENV, "2")
    import slice_probe

    yield slice_probe
    parallel.stop_workers()


def test_slice_bounds_cover_every_row_once():
    assert slice_bounds(10, 3) == [(0, 4), (4, 3), (7, 3)]
    assert slice_bounds(2, 5) == [(0, 1), (1, 1)]
    for rows, slices in [(1, 1), (9, 2), (1000, 7)]:
        bounds = slice_bounds(rows, slices)
        assert [o for o, _ in bounds] == [sum(n for _, n in bounds[:i]) for i in range(len(bounds))]
        assert sum(n for _, n in bounds) == rows
        assert max(n for _, n in bounds) - min(n for _, n in bounds) <= 1


def test_slices_run_in_another_process_and_return_in_order(probe):
    frame = pl.DataFrame({"n": list(range(9))})
    parts = map_slices(probe.describe_slice, frame, min_slice_rows=3)
    assert [(offset, values) for offset, values, _ in parts] == [
        (0, [0, 1, 2, 3, 4]),
        (5, [5, 6, 7, 8]),
    ]
    assert parts[0][2] != os.getpid() and parts[1][2] == os.getpid()
    assert parallel.pool_running()


def test_large_frames_go_in_bounded_slices_every_process_taking_turns(probe, monkeypatch):
    monkeypatch.setattr(parallel, "MAX_SLICE_ROWS", 2)
    frame = pl.DataFrame({"n": list(range(9))})
    parts = map_slices(probe.describe_slice, frame, min_slice_rows=1)
    assert [values for _, values, _ in parts] == [[0, 1], [2, 3], [4, 5], [6], [7], [8]]
    assert [offset for offset, _, _ in parts] == [0, 2, 4, 6, 7, 8]
    here = [pid == os.getpid() for _, _, pid in parts]
    assert here == [False, True, False, True, False, True]
    monkeypatch.setenv(parallel.WORKERS_ENV, "1")
    parts = map_slices(probe.describe_slice, frame, min_slice_rows=1)
    assert [values for _, values, _ in parts] == [[0, 1], [2, 3], [4, 5], [6, 7], [8]]
    assert all(pid == os.getpid() for _, _, pid in parts)


def test_small_frames_and_one_worker_run_here(probe, monkeypatch):
    frame = pl.DataFrame({"n": list(range(9))})
    assert map_slices(probe.describe_slice, frame, min_slice_rows=5) == [
        (0, list(range(9)), os.getpid())
    ]
    monkeypatch.setenv(parallel.WORKERS_ENV, "1")
    assert map_slices(probe.describe_slice, frame, min_slice_rows=1)[0][2] == os.getpid()
    assert not parallel.pool_running()


def test_a_worker_error_reaches_the_caller_with_its_message(probe):
    with pytest.raises(ValueError, match="row 7 holds 7"):
        map_slices(probe.fail_on_seven, pl.DataFrame({"n": list(range(20))}), min_slice_rows=5)
    # The pool survives an error raised by the function and keeps working.
    assert map_slices(probe.fail_on_seven, pl.DataFrame({"n": [1, 2, 3, 4]}), 2) == [2, 2]


def test_idle_workers_stop(probe, monkeypatch):
    monkeypatch.setattr(parallel, "IDLE_SECONDS", 0.2)
    map_slices(probe.describe_slice, pl.DataFrame({"n": list(range(4))}), min_slice_rows=2)
    assert parallel.pool_running()
    deadline = time.monotonic() + 10
    while parallel.pool_running() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not parallel.pool_running()


def test_bad_worker_setting_is_named(monkeypatch):
    monkeypatch.setenv(parallel.WORKERS_ENV, "two")
    with pytest.raises(ValueError, match="RECRM_WORKERS must be a whole number"):
        parallel.worker_count()


def test_a_script_without_main_guard_is_not_run_again_by_workers(tmp_path):
    script = tmp_path / "unguarded.py"
    script.write_text(
        "import polars as pl\n"
        "import slice_probe\n"
        "from core.parallel import map_slices\n"
        "print('script body ran')\n"
        "parts = map_slices(slice_probe.describe_slice, pl.DataFrame({'n': [1, 2, 3, 4]}), 2)\n"
        "print('pids', len({pid for _, _, pid in parts}))\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), str(HERE)]),
        parallel.WORKERS_ENV: "2",
    }
    done = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["script body ran", "pids 2"]


def test_merge_counts_adds_numbers_and_nested_counts():
    merged = merge_counts(
        [
            {"turns": 3, "by": {"b": 1, "a": 2}, "name": "x"},
            {"turns": 4, "by": {"a": 1, "c": 5}, "name": "y"},
        ]
    )
    assert merged == {"turns": 7, "by": {"a": 3, "b": 1, "c": 5}, "name": "x"}
    assert list(merged["by"]) == ["a", "b", "c"]
