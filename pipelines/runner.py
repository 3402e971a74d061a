"""Materialize the code location's assets in process: what the `recrm` CLI runs.

The CLI and the UI run the same asset definitions with the same resources; the CLI just drives them
layer by layer and domain by domain, on the project's Dagster instance when there is one (so its
runs show in `dagster dev`), else on an ephemeral instance.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from dagster import AssetSelection, DagsterEventType, DagsterInstance, materialize
from dagster._core.instance.ref import InstanceRef

from core.paths import (
    DOMAIN_RULE_TEXT,
    PathRefused,
    check_domain,
    domain_folder,
    is_domain_name,
    private_dir,
)
from core.settings import Settings
from core.warehouse import held_open
from pipelines.launcher import PID_TAG, pid_alive, run_worker_pid
from schemas.logs import FILE_SUFFIXES


class BuildFailed(RuntimeError):
    """A run failed; the message is the one-line reason the CLI prints. `report` holds what
    the runs reported up to the failure (e.g. failed checks' metadata), when there was a run."""

    def __init__(self, message: str, report: RunReport | None = None):
        super().__init__(message)
        self.report = report


@dataclass
class Materialization:
    asset: str
    partition: str | None
    metadata: dict = field(default_factory=dict)


@dataclass
class CheckOutcome:
    asset: str
    check: str
    passed: bool
    severity: str
    metadata: dict = field(default_factory=dict)


@dataclass
class RunReport:
    materializations: list[Materialization] = field(default_factory=list)
    checks: list[CheckOutcome] = field(default_factory=list)


@contextmanager
def project_instance() -> Iterator[DagsterInstance]:
    """DAGSTER_HOME's instance if set; else the repository's dagster.yaml (cwd); else ephemeral."""
    if os.environ.get("DAGSTER_HOME"):
        with DagsterInstance.get() as instance:
            yield instance
    elif Path("dagster.yaml").is_file():
        base = private_dir(Path(".dagster").resolve())  # run records hold metadata and logs
        with DagsterInstance.from_ref(
            InstanceRef.from_dir(str(base), config_dir=os.getcwd())
        ) as instance:
            yield instance
    else:
        with DagsterInstance.ephemeral() as instance:
            yield instance


def discover_domains(logs_root: Path) -> list[str]:
    """Domain folders under the log root: sub-folders holding at least one log file, whose names
    pass the domain rule (`core.paths`) and that stay inside the log root. The others are left
    out; `skipped_folders` says which and why."""
    return scan_log_root(logs_root)[0]


def skipped_folders(logs_root: Path) -> dict[str, str]:
    """Folders under the log root that are not built as domains -> why (for the user)."""
    return scan_log_root(logs_root)[1]


def scan_log_root(logs_root: Path) -> tuple[list[str], dict[str, str]]:
    """(domains, skipped folder -> reason). Folders starting with `_` are the generator's
    (`_truth/`) and hidden folders (`.git`, `.cache`) are not domains; they are left out silently.
    Every other folder that is not built is named with its reason, a folder named `..x` included."""
    if not logs_root.is_dir():
        raise BuildFailed(f"The log root {logs_root} is not a folder.")
    domains: list[str] = []
    skipped: dict[str, str] = {}
    for child in sorted(logs_root.iterdir()):
        name = child.name
        if not child.is_dir():
            continue
        if name.startswith("_") or (name.startswith(".") and not name.startswith("..")):
            continue
        if not is_domain_name(name):
            skipped[name] = f"not a valid domain name ({DOMAIN_RULE_TEXT})"
            continue
        try:
            folder = domain_folder(logs_root, name)
        except PathRefused as exc:
            skipped[name] = str(exc)
            continue
        if any(p.name.lower().endswith(FILE_SUFFIXES) for p in folder.iterdir() if p.is_file()):
            domains.append(name)
    return domains, skipped


def mark_dead_runs_failed(instance: DagsterInstance) -> list[str]:
    """Runs of this instance left STARTED (or STARTING) by a process that no longer exists
    (killed with -9, power loss) are marked failed, so that a re-run is not blocked and the UI
    tells the truth. Dagster's run monitoring does the same for runs it launched (dagster.yaml);
    the CLI runs in process and is not monitored, hence this check before each build.
    Returns the run ids marked."""
    from dagster import DagsterRunStatus, RunsFilter

    marked = []
    records = instance.get_run_records(
        RunsFilter(statuses=[DagsterRunStatus.STARTED, DagsterRunStatus.STARTING])
    )
    for record in records:
        run = record.dagster_run
        pid = run_worker_pid(instance, run)
        if pid is None or pid_alive(pid):
            continue
        instance.report_run_failed(
            run, message=f"The process {pid} running this run is gone (killed); marked failed."
        )
        marked.append(run.run_id)
    return marked


def _value(entry) -> object:
    return getattr(entry, "value", entry)


def _collect(result, report: RunReport) -> None:
    for event in result.all_events:
        if event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
            mat = event.event_specific_data.materialization
            report.materializations.append(
                Materialization(
                    asset=mat.asset_key.to_user_string(),
                    partition=mat.partition,
                    metadata={k: _value(v) for k, v in mat.metadata.items()},
                )
            )
        elif event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            ev = event.event_specific_data
            report.checks.append(
                CheckOutcome(
                    asset=ev.asset_key.to_user_string(),
                    check=ev.check_name,
                    passed=ev.passed,
                    severity=str(ev.severity.value) if ev.severity else "ERROR",
                    metadata={k: _value(v) for k, v in ev.metadata.items()},
                )
            )


def _failure_reason(result, report: RunReport) -> str:
    failed_checks = [c for c in report.checks if not c.passed and c.severity == "ERROR"]
    if failed_checks:
        names = ", ".join(f"{c.asset}:{c.check}" for c in failed_checks)
        return f"blocking checks failed: {names}"
    for event in result.all_events:
        if event.event_type == DagsterEventType.STEP_FAILURE:
            err = event.event_specific_data.error
            # The user-facing cause is the innermost error.
            while err.cause is not None:
                err = err.cause
            message = err.message.strip().splitlines()[-1] if err.message else err.cls_name
            return f"{event.step_key}: {message}"
    return "run failed"


def _console_log_level() -> str:
    return os.environ.get("RECRM_DAGSTER_LOG_LEVEL", "CRITICAL").upper()


def materialize_selection(
    selection: AssetSelection,
    settings: Settings,
    instance: DagsterInstance,
    partition_key: str | None = None,
    report: RunReport | None = None,
    resources: dict | None = None,
) -> RunReport:
    """Materialize `selection` (and its checks) for one partition, or unpartitioned; `resources`
    replace the default resources of the same name."""
    from pipelines.definitions import ALL_ASSETS, ALL_CHECKS
    from pipelines.resources import default_resources

    report = report if report is not None else RunReport()
    result = materialize(
        assets=[*ALL_ASSETS, *ALL_CHECKS],
        selection=selection,
        partition_key=partition_key,
        instance=instance,
        resources=default_resources(settings) | (resources or {}),
        raise_on_error=False,
        tags={"recrm/cli": "true", PID_TAG: str(os.getpid())},
        # The CLI prints its own summary and one-line failures; Dagster's event log stays in the
        # instance. RECRM_DAGSTER_LOG_LEVEL=DEBUG shows it on the console.
        run_config={"loggers": {"console": {"config": {"log_level": _console_log_level()}}}},
    )
    _collect(result, report)
    if not result.success:
        where = f" (domain {partition_key})" if partition_key else ""
        raise BuildFailed(_failure_reason(result, report) + where, report=report)
    return report


def run_layers(
    layers: list[tuple[str, AssetSelection, bool]],
    domains: list[str],
    settings: Settings,
    on_step: Callable[[str], None] | None = None,
) -> RunReport:
    """Run each (name, selection, partitioned) layer in order: per domain when partitioned."""
    from assets.partitions import DOMAINS

    report = RunReport()
    for domain in domains:
        check_domain(domain)
    with project_instance() as instance, held_open(settings.warehouse_path):
        mark_dead_runs_failed(instance)
        known = set(instance.get_dynamic_partitions(DOMAINS.name))
        new = [d for d in domains if d not in known]
        if new:
            instance.add_dynamic_partitions(DOMAINS.name, new)
        for name, selection, partitioned in layers:
            keys = domains if partitioned else [None]
            for key in keys:
                if on_step:
                    on_step(f"{name}" + (f" [{key}]" if key else ""))
                materialize_selection(selection, settings, instance, key, report)
    return report
