"""Resident memory and CPU time of a process and every process it started (worker processes
included), sampled from /proc in a thread: a build that labels turns in worker processes uses the
memory of all of them at once, which one process's max RSS (wait4) does not show, and the CPU
time shows how many cores a stretch of the build kept busy."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue  # the thread or process ended while being read
    return out


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of `pid` so far (None when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime


def tree_pids(pid: int) -> list[int]:
    """`pid` and all its descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        if p in out:
            continue
        out.append(p)
        todo += _children(p)
    return out


class TreeSampler:
    """Samples the RSS of `pid`'s process tree (default: this process) and the CPU time the tree
    has used every `interval` seconds. A process that ends keeps the CPU time last seen, so
    worker processes that come and go are counted (less their last interval)."""

    def __init__(self, pid: int | None = None, interval: float = 0.2):
        self.pid = os.getpid() if pid is None else pid
        self.samples: list[tuple[float, int, float]] = []  # (time, RSS bytes, CPU seconds)
        self._cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)

    def _run(self, interval: float) -> None:
        while not self._stop.is_set():
            pids = tree_pids(self.pid)
            for p in pids:
                seconds = _cpu_seconds(p)
                if seconds is not None:
                    self._cpu[p] = max(seconds, self._cpu.get(p, 0.0))
            rss = sum(_rss(p) for p in pids)
            self.samples.append((time.time(), rss, sum(self._cpu.values())))
            time.sleep(interval)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def peak(self, start: float = 0.0, end: float = float("inf")) -> int:
        return max((r for t, r, _ in self.samples if start <= t <= end), default=0)

    def cpu_seconds(self, start: float = 0.0, end: float = float("inf")) -> float:
        """CPU time the tree used between the samples nearest `start` and `end`."""
        inside = [(t, c) for t, _, c in self.samples if start <= t <= end]
        before = [c for t, _, c in self.samples if t < start]
        if not inside:
            return 0.0
        return inside[-1][1] - (before[-1] if before else inside[0][1])
