"""Run the code location's jobs in process: what the `recrm` CLI runs.

The CLI and the UI run the same asset definitions with the same resources. A build runs the named
jobs of `pipelines/jobs.py` (`build_domain` per domain, then `publish_release`), tagged with the
code location's repository label, so each run is listed under its job in `dagster dev`'s job
history (not as an anonymous `__ephemeral_asset_job__`). It runs on the project's Dagster instance
when there is one (so its runs show in `dagster dev`), else on an ephemeral instance. Progress is
reported per step (event listener on the instance) with the step's rows.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from dagster import (
    AssetSelection,
    DagsterEventType,
    DagsterInstance,
    Definitions,
    in_process_executor,
    materialize,
)
from dagster._core.instance.ref import InstanceRef

from assets.steps.dagster import BUILD_TAG
from core.paths import (
    DOMAIN_RULE_TEXT,
    PathRefused,
    check_domain,
    domain_folder,
    is_domain_name,
    private_dir,
)
from core.settings import Settings
from core.warehouse import DEFAULT_MEMORY_LIMIT, MEMORY_LIMIT_ENV, held_open
from pipelines.launcher import PID_TAG, pid_alive, run_worker_pid
from schemas.logs import FILE_SUFFIXES

# The code location `dagster dev` loads ([tool.dagster] in pyproject.toml) holds one repository
# (Definitions); the UI lists a job's runs by this label.
CODE_LOCATION_NAME = "recrm"
REPOSITORY_LABEL = f"__repository__@{CODE_LOCATION_NAME}"
REPOSITORY_LABEL_TAG = ".dagster/repository"
CLI_TAG = "recrm/cli"
MEANING_CHECK = "meaning"  # the asset checks of assets/checks/meaning.py: causes, named first


class BuildFailed(RuntimeError):
    """A run failed; the message is the one-line reason the CLI prints. `report` holds what
    the runs reported up to the failure (e.g. failed checks' metadata), when there was a run."""

    def __init__(self, message: str, report: RunReport | None = None, url: str | None = None):
        super().__init__(message)
        self.report = report
        self.url = url  # the failed run's page in the UI, when it ran as a named job


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
class RunRecord:
    """One Dagster run the CLI launched: its job, partition, id and outcome."""

    job: str
    partition: str | None
    run_id: str
    success: bool
    seconds: float
    data_docs: str | None = None  # index.html of the Data Docs site holding its check results


@dataclass
class RunReport:
    materializations: list[Materialization] = field(default_factory=list)
    checks: list[CheckOutcome] = field(default_factory=list)
    runs: list[RunRecord] = field(default_factory=list)


@dataclass(frozen=True)
class StepProgress:
    """A step that just finished: `index` of `total` in the whole command, in `job` for
    `partition`, `elapsed` seconds since the command started, `rows` it wrote (if a table)."""

    index: int
    total: int
    job: str
    partition: str | None
    step: str
    elapsed: float
    rows: int | None
    status: str  # "started", "succeeded", "failed", "skipped"


@contextmanager
def project_instance() -> Iterator[DagsterInstance]:
    """DAGSTER_HOME's instance if set; else the repository's dagster.yaml (cwd); else ephemeral."""
    from dagster._core.storage.defs_state.base import DefsStateStorage, set_defs_state_storage

    # Entering a DagsterInstance makes its defs-state storage the process's current one, and
    # leaving it does not undo that (dagster 1.13): a later Definitions load in this process
    # (another command, a test's `materialize`) would then reach this closed instance and fail
    # with "undefined DagsterInstance weakref". Restore what was current before.
    with set_defs_state_storage(DefsStateStorage.get()), _open_project_instance() as instance:
        yield instance


@contextmanager
def _open_project_instance() -> Iterator[DagsterInstance]:
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
        # A meaning check's failure (assets/checks/meaning.py) is the cause; the others that
        # follow from it (row counts, expectations) are symptoms: the cause is named first.
        failed_checks.sort(key=lambda c: c.check != MEANING_CHECK)
        causes = [c.metadata["error"] for c in failed_checks if c.check == MEANING_CHECK]
        names = ", ".join(f"{c.asset}:{c.check}" for c in failed_checks)
        if causes:
            return " | ".join(causes) + f"; blocking checks failed: {names}"
        return f"blocking checks failed: {names}"
    for event in result.all_events:
        if event.event_type == DagsterEventType.STEP_FAILURE:
            err = event.event_specific_data.error
            # The user-facing cause is the innermost error.
            while err.cause is not None:
                err = err.cause
            # Its first line: DuckDB's errors go on with advice and a link after the cause.
            lines = [line for line in (err.message or "").splitlines() if line.strip()]
            message = lines[0].strip() if lines else err.cls_name
            if "OutOfMemory" in err.cls_name or "Out of Memory Error" in message:
                message += (
                    f" (DuckDB's memory limit: {MEMORY_LIMIT_ENV}, default {DEFAULT_MEMORY_LIMIT})"
                )
            return f"{event.step_key}: {message}"
    return "run failed"


def _console_log_level() -> str:
    return os.environ.get("RECRM_DAGSTER_LOG_LEVEL", "CRITICAL").upper()


def _rows_of(metadata: dict) -> int | None:
    for key in ("dagster/row_count", "rows"):
        value = metadata.get(key)
        if value is not None:
            value = _value(value)
            if isinstance(value, int):
                return value
    return None


def code_location(settings: Settings, resources: dict | None = None) -> Definitions:
    """The code location's definitions with the CLI's resources (its settings, not the env's)."""
    from pipelines.catalog import ALL_ASSETS, ALL_CHECKS
    from pipelines.jobs import JOBS
    from pipelines.resources import default_resources

    return Definitions(
        assets=ALL_ASSETS,
        asset_checks=ALL_CHECKS,
        jobs=JOBS,
        resources=default_resources(settings) | (resources or {}),
        executor=in_process_executor,
    )


def job_steps(defs: Definitions, job_name: str, keys: list | None = None) -> int:
    """How many steps (asset and check ops) one run of the job executes (about as many as the
    selected assets when the run is limited to `keys`)."""
    if keys is not None:
        # Each selected asset's checks run as steps of their own.
        selected = set(keys)
        checks = defs.resolve_asset_graph().asset_check_keys
        return len(keys) + sum(1 for c in checks if c.asset_key in selected)
    return len(defs.resolve_job_def(job_name).graph.node_dict)


def selected_keys(defs: Definitions, selection) -> list | None:
    """The asset keys of `selection` (None: the whole job)."""
    if selection is None:
        return None
    return sorted(selection.resolve(defs.resolve_asset_graph()))


def run_url(settings: Settings, run_id: str) -> str:
    return f"{settings.dagster_ui_url.rstrip('/')}/runs/{run_id}"


class _StepCounter:
    """Turns a run's events into StepProgress calls; `done` counts steps over every run."""

    def __init__(self, total: int, on_progress: Callable[[StepProgress], None] | None):
        self.total = total
        self.done = 0
        self.started = time.monotonic()
        self.on_progress = on_progress
        self._rows: dict[str, int] = {}

    def listener(self, job: str, partition: str | None) -> Callable:
        def on_event(record) -> None:
            event = getattr(record, "dagster_event", None)
            if event is None:
                return
            kind = event.event_type
            if kind == DagsterEventType.ASSET_MATERIALIZATION:
                rows = _rows_of(event.event_specific_data.materialization.metadata)
                if rows is not None and event.step_key:
                    self._rows[event.step_key] = self._rows.get(event.step_key, 0) + rows
                return
            status = {
                DagsterEventType.STEP_START: "started",
                DagsterEventType.STEP_SUCCESS: "succeeded",
                DagsterEventType.STEP_FAILURE: "failed",
                DagsterEventType.STEP_SKIPPED: "skipped",
            }.get(kind)
            if status is None:
                return
            if status != "started":
                self.done += 1
            if self.on_progress:
                self.on_progress(
                    StepProgress(
                        index=self.done + (1 if status == "started" else 0),
                        total=self.total,
                        job=job,
                        partition=partition,
                        step=event.step_key,
                        elapsed=time.monotonic() - self.started,
                        rows=self._rows.get(event.step_key),
                        status=status,
                    )
                )

        return on_event


def add_data_docs(settings: Settings, run_id: str) -> str | None:
    """Add the run's check results to the warehouse's GX Data Docs site (failed runs too: their
    failures are what the pages are for); its index.html, or None when the run checked nothing.
    A site that cannot be built is a warning, not a failed build."""
    import warnings

    from assets.checks.data_docs import add_run_to_site
    from assets.checks.results import validation_root

    try:
        index = add_run_to_site(validation_root(settings.warehouse_path), run_id)
    except Exception as exc:  # the build's outcome does not depend on its report
        warnings.warn(f"Data Docs of run {run_id} not built: {exc}", stacklevel=2)
        return None
    return str(index.resolve()) if index else None


def run_job(
    defs: Definitions,
    job_name: str,
    settings: Settings,
    instance: DagsterInstance,
    partition_key: str | None = None,
    report: RunReport | None = None,
    counter: _StepCounter | None = None,
    asset_keys: list | None = None,
    build_id: str | None = None,
) -> RunReport:
    """Run the named job of `defs` in process (for one partition, or unpartitioned), as a run of
    that job in the code location: the UI lists it in the job's history. `asset_keys` limits the
    run to those assets of the job (a release of fewer dimensions)."""
    report = report if report is not None else RunReport()
    job = defs.resolve_job_def(job_name)
    run_id = str(uuid.uuid4())
    if counter is not None:
        instance.add_event_listener(run_id, counter.listener(job_name, partition_key))
    started = time.monotonic()
    result = job.execute_in_process(
        instance=instance,
        partition_key=partition_key,
        run_id=run_id,
        asset_selection=asset_keys,
        raise_on_error=False,
        tags={
            CLI_TAG: "true",
            REPOSITORY_LABEL_TAG: REPOSITORY_LABEL,
            PID_TAG: str(os.getpid()),
            BUILD_TAG: build_id or run_id,
        },
        run_config={"loggers": {"console": {"config": {"log_level": _console_log_level()}}}},
    )
    seconds = time.monotonic() - started
    docs = add_data_docs(settings, run_id)
    report.runs.append(RunRecord(job_name, partition_key, run_id, result.success, seconds, docs))
    _collect(result, report)
    if not result.success:
        where = f" (domain {partition_key})" if partition_key else ""
        raise BuildFailed(
            _failure_reason(result, report) + where, report=report, url=run_url(settings, run_id)
        )
    return report


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
    from pipelines.catalog import ALL_ASSETS, ALL_CHECKS
    from pipelines.resources import default_resources

    report = report if report is not None else RunReport()
    result = materialize(
        assets=[*ALL_ASSETS, *ALL_CHECKS],
        selection=selection,
        partition_key=partition_key,
        instance=instance,
        resources=default_resources(settings) | (resources or {}),
        raise_on_error=False,
        tags={CLI_TAG: "true", PID_TAG: str(os.getpid())},
        # The CLI prints its own summary and one-line failures; Dagster's event log stays in the
        # instance. RECRM_DAGSTER_LOG_LEVEL=DEBUG shows it on the console.
        run_config={"loggers": {"console": {"config": {"log_level": _console_log_level()}}}},
    )
    _collect(result, report)
    if not result.success:
        where = f" (domain {partition_key})" if partition_key else ""
        raise BuildFailed(_failure_reason(result, report) + where, report=report)
    return report


def run_jobs(
    jobs: list[tuple[str, bool]],
    domains: list[str],
    settings: Settings,
    on_progress: Callable[[StepProgress], None] | None = None,
    resources: dict | None = None,
    selections: dict | None = None,
) -> RunReport:
    """Run each (job name, partitioned) in order: once per domain when partitioned. Every step
    of every run is reported to `on_progress` (step i of n over the whole command).
    `selections`: job name -> AssetSelection limiting that job's runs (capability-aware builds)."""
    from assets.partitions import DOMAINS

    for domain in domains:
        check_domain(domain)
    report = RunReport()
    with project_instance() as instance, held_open(settings.warehouse_path, settings.storage_root):
        # Loaded with the instance open: Dagster reads the definitions' state from it.
        defs = code_location(settings, resources)
        keys = {name: selected_keys(defs, (selections or {}).get(name)) for name, _ in jobs}
        total = sum(
            job_steps(defs, name, keys[name]) * (len(domains) if part else 1) for name, part in jobs
        )
        counter = _StepCounter(total, on_progress)
        mark_dead_runs_failed(instance)
        known = set(instance.get_dynamic_partitions(DOMAINS.name))
        new = [d for d in domains if d not in known]
        if new:
            instance.add_dynamic_partitions(DOMAINS.name, new)
        build_id = str(uuid.uuid4())  # the runs of this build share one LLM budget
        for name, partitioned in jobs:
            for key in domains if partitioned else [None]:
                run_job(defs, name, settings, instance, key, report, counter, keys[name], build_id)
    return report


def run_layers(
    layers: list[tuple[str, AssetSelection, bool]],
    domains: list[str],
    settings: Settings,
    on_step: Callable[[str], None] | None = None,
) -> RunReport:
    """Run each (name, selection, partitioned) layer in order: per domain when partitioned.
    Ad-hoc selections (benchmarks) run as anonymous asset jobs; the CLI runs named jobs
    (`run_jobs`)."""
    from assets.partitions import DOMAINS

    report = RunReport()
    for domain in domains:
        check_domain(domain)
    with project_instance() as instance, held_open(settings.warehouse_path, settings.storage_root):
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
