"""The run launcher of `dagster dev` (dagster.yaml): Dagster's default one, plus a health check
so that run monitoring can tell a run whose process was killed (`kill -9`, out of memory) from a
running one. The default launcher cannot, so such a run stayed STARTED for good.

A run's worker process is known by its pid: the `recrm/pid` tag of CLI runs, or the pid in the
"Started process for run (pid: N)" engine event Dagster writes for launched runs. Both run on this
machine (`dagster dev` is a single-machine setup), so `os.kill(pid, 0)` says whether it lives.
"""

from __future__ import annotations

import os

from dagster import DagsterEventType, DagsterInstance
from dagster._core.launcher import CheckRunHealthResult, DefaultRunLauncher, WorkerStatus
from dagster._core.storage.dagster_run import DagsterRun

PID_TAG = "recrm/pid"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def run_worker_pid(instance: DagsterInstance, run: DagsterRun) -> int | None:
    """The pid of the process executing `run`, if recorded."""
    tag = (run.tags or {}).get(PID_TAG)
    if tag and tag.isdigit():
        return int(tag)
    records = instance.get_records_for_run(
        run.run_id, of_type=DagsterEventType.ENGINE_EVENT, limit=50
    ).records
    for record in records:
        event = record.event_log_entry.dagster_event
        data = getattr(event, "event_specific_data", None) if event else None
        pid = (getattr(data, "metadata", None) or {}).get("pid")
        value = getattr(pid, "value", pid)
        if value is not None and str(value).isdigit():
            return int(value)
    return None


class MonitoredRunLauncher(DefaultRunLauncher):
    """DefaultRunLauncher whose runs can be monitored: a run whose worker pid is gone FAILED."""

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: DagsterRun) -> CheckRunHealthResult:
        pid = run_worker_pid(self._instance, run)
        if pid is None:
            return CheckRunHealthResult(WorkerStatus.UNKNOWN, "no worker pid recorded yet")
        if pid_alive(pid):
            return CheckRunHealthResult(WorkerStatus.RUNNING, run_worker_id=str(pid))
        return CheckRunHealthResult(
            WorkerStatus.FAILED,
            f"the run's worker process {pid} is gone (killed or crashed)",
            run_worker_id=str(pid),
        )
