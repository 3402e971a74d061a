"""Sensors.

- `new_domain_sensor` watches the log root (the `build` resource's `logs_root`). A domain folder
  (`pipelines.runner.scan_log_root`; folders whose names break the domain rule are skipped and
  named) is built only once it is complete: it holds a `_SUCCESS` marker, written last by
  whatever copies the drop. A new complete folder becomes a `domain` partition and gets a
  `build_domain` run; a known one gets a run when the fingerprint of its files (names, sizes,
  modification times) changes. The fingerprint is in the run key, so a failed build is retried
  on the folder's next change and an unchanged folder is never built twice.
- `release_after_domains` requests `publish_release` once every domain partition's latest
  `build_domain` run succeeded and was started after the last `publish_release` run. Runs of
  the CLI (`recrm build`, tagged `recrm/cli`) count like the sensor's and the UI's; a domain
  removed with `recrm domains remove` is no longer waited for.
- Both request runs of the dimensions the drops support only (`supported_selection`, the
  capability preflight `recrm build` uses), tagged `recrm/dimensions`.
- `data_docs_after_run` / `data_docs_after_failure`: a run of the three jobs launched from the UI
  (or by a sensor or schedule) adds its check results to the warehouse's Data Docs site, as the
  CLI does for its own runs (`pipelines.runner.add_data_docs`).
"""

from __future__ import annotations

import json
from pathlib import Path

from dagster import (
    DagsterRunStatus,
    DefaultSensorStatus,
    RunFailureSensorContext,
    RunRequest,
    RunsFilter,
    RunStatusSensorContext,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    run_failure_sensor,
    run_status_sensor,
    sensor,
)

from assets.ingest.discover import drop_fingerprint, is_complete
from assets.partitions import DOMAINS
from assets.resources import BuildSettings, WarehouseResource
from core.paths import domain_folder
from pipelines.jobs import JOBS, domain_job, domain_layers, release_job, release_layers
from pipelines.runner import CLI_TAG, BuildFailed, scan_log_root
from schemas.logs import COMPLETE_MARKER

PARTITION_TAG = "dagster/partition"
FINGERPRINT_TAG = "recrm/fingerprint"  # the drop_fingerprint of the folder the run was asked for
TRIGGER_TAG = "recrm/trigger"  # why the sensor asked: new domain, files changed, never built
DIMENSIONS_TAG = "recrm/dimensions"  # the dimensions the run builds (those the drop supports)


@sensor(
    job=domain_job,
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.STOPPED,
    description="Builds each complete domain folder (with a _SUCCESS marker) under the log root: "
    "a new one becomes a partition; a known one is rebuilt when its files change.",
)
def new_domain_sensor(context: SensorEvaluationContext, build: BuildSettings):
    logs_root = Path(build.settings().logs_root)
    try:
        found, skipped = scan_log_root(logs_root)
    except BuildFailed as exc:
        return SkipReason(str(exc))
    for name, why in skipped.items():
        context.log.warning(f"Folder {name!r} under {logs_root} is skipped: {why}")
    previous: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    known = set(context.instance.get_dynamic_partitions(DOMAINS.name))
    waiting = [d for d in found if not is_complete(domain_folder(logs_root, d))]
    # The cursor holds the fingerprint each domain was last requested (or first seen) with; a
    # folder being re-copied (its marker removed meanwhile) keeps its entry.
    cursor = {d: previous[d] for d in waiting if d in previous}
    requests, new = [], []
    for domain in (d for d in found if d not in waiting):
        fingerprint = drop_fingerprint(domain_folder(logs_root, domain))
        cursor[domain] = fingerprint
        if domain not in known:
            new.append(domain)
            why = "new domain"
        elif domain not in previous:
            # Known before this sensor saw it (a CLI build, an earlier sensor version): built
            # only if it never was; from now on, a change to its files rebuilds it.
            if _latest_run(context.instance, domain_job.name, domain) is not None:
                continue
            why = "never built"
        elif previous[domain] != fingerprint:
            why = "files changed"
        else:
            continue
        keys, dimensions = supported_selection(logs_root, [domain], domain_layers)
        requests.append(
            RunRequest(
                partition_key=domain,
                # A new fingerprint is a new run key: a failed build is retried on the next
                # change, and an unchanged folder is never built twice.
                run_key=_run_key(context.instance, domain, fingerprint, why),
                tags={FINGERPRINT_TAG: fingerprint, TRIGGER_TAG: why, DIMENSIONS_TAG: dimensions},
                asset_selection=keys,
            )
        )
    if waiting:
        context.log.info(f"Waiting for {COMPLETE_MARKER} in: {', '.join(waiting)}")
    if not requests:
        parts = [f"{n!r} skipped: {w}" for n, w in skipped.items()]
        if waiting:
            parts.insert(0, f"incomplete, no {COMPLETE_MARKER} yet: {', '.join(waiting)}")
        return SensorResult(
            skip_reason=SkipReason(
                f"no new domain folder and no changed drop under {logs_root}"
                + (f" ({'; '.join(parts)})" if parts else "")
            ),
            cursor=json.dumps(cursor, sort_keys=True),
        )
    return SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[DOMAINS.build_add_request(new)] if new else [],
        cursor=json.dumps(cursor, sort_keys=True),
    )


def supported_selection(logs_root: Path, domains: list[str], layers) -> tuple[list | None, str]:
    """(asset keys a run builds, the dimensions tag): as `recrm build` does, only the dimensions
    every domain's drop supports (`assets.ingest.capabilities.plan_dimensions`); None: the whole job.
    `layers(dimensions)` is `pipelines.jobs.domain_layers` or `release_layers`. A drop that
    supports no dimension is still ingested and staged (the UI shows its preflight)."""
    from assets.ingest.capabilities import plan_dimensions
    from core.llm.config import load_llm_config
    from pipelines.catalog import ALL_ASSETS
    from schemas.entries import DIMENSIONS

    chosen, _ = plan_dimensions(logs_root, domains, None, load_llm_config().enabled)
    if chosen == list(DIMENSIONS):
        return None, "all"
    return sorted(layers(chosen).resolve(ALL_ASSETS)), ",".join(chosen) or "none"


def _run_key(instance, domain: str, fingerprint: str, why: str) -> str:
    """`domain:<name>:<fingerprint>`; a domain added again after `recrm domains remove` (its
    folder unchanged) gets a key its earlier runs did not use, or Dagster would skip the run."""
    key = f"domain:{domain}:{fingerprint}"
    if why == "new domain":
        runs = instance.get_runs_count(
            RunsFilter(job_name=domain_job.name, tags={PARTITION_TAG: domain})
        )
        if runs:
            key += f":readded-after-{runs}-runs"
    return key


def _latest_run(instance, job_name: str, domain: str | None = None):
    tags = {PARTITION_TAG: domain} if domain else None
    records = instance.get_run_records(RunsFilter(job_name=job_name, tags=tags), limit=1)
    return records[0] if records else None


@sensor(
    job=release_job,
    minimum_interval_seconds=120,
    default_status=DefaultSensorStatus.STOPPED,
    description="Publishes a release once every domain was rebuilt successfully since the last.",
)
def release_after_domains(context: SensorEvaluationContext, build: BuildSettings):
    instance = context.instance
    domains = sorted(instance.get_dynamic_partitions(DOMAINS.name))
    if not domains:
        return SkipReason("no domain partitions yet")
    last_release = _latest_run(instance, release_job.name)
    if last_release and not last_release.dagster_run.is_finished:
        return SkipReason(f"publish_release run {last_release.dagster_run.run_id} in progress")
    since = last_release.storage_id if last_release else 0
    builds = {}
    for domain in domains:
        record = _latest_run(instance, domain_job.name, domain)
        if record is None:
            return SkipReason(
                f"domain {domain} has not been rebuilt since the last release: it has never "
                f"been built (a retired or stale partition? `recrm domains list`, "
                f"`recrm domains remove {domain}`)"
            )
        if record.storage_id <= since:
            return SkipReason(f"domain {domain} has not been rebuilt since the last release")
        if record.dagster_run.status != DagsterRunStatus.SUCCESS:
            status = record.dagster_run.status.value
            return SkipReason(f"latest build_domain run of {domain} is {status}")
        builds[domain] = record.dagster_run.run_id
    run_key = "release:" + ",".join(f"{d}={builds[d]}" for d in domains)
    # The dimensions every domain whose folder is still there supports, as `recrm build` does.
    logs_root = Path(build.settings().logs_root)
    present = [d for d in domains if (logs_root / d).is_dir()]
    keys, dimensions = (
        supported_selection(logs_root, present, release_layers) if present else (None, "all")
    )
    if dimensions == "none":
        return SkipReason(f"no dimension is supported by every domain ({', '.join(present)})")
    return RunRequest(
        run_key=run_key,
        tags={"recrm/domains": ",".join(domains), DIMENSIONS_TAG: dimensions},
        asset_selection=keys,
    )


def add_run_docs(run, warehouse: WarehouseResource) -> SkipReason:
    """Add a finished run's check results to the Data Docs site (not the CLI's: it adds its own)."""
    from assets.checks.data_docs import add_run_to_site
    from assets.checks.results import validation_root

    if run.tags.get(CLI_TAG) == "true":
        return SkipReason(f"run {run.run_id} came from the CLI, which adds its own results")
    index = add_run_to_site(validation_root(warehouse.path), run.run_id)
    if index is None:
        return SkipReason(f"run {run.run_id} stored no check results")
    return SkipReason(f"run {run.run_id} added to the Data Docs site {index}")


@run_status_sensor(
    run_status=DagsterRunStatus.SUCCESS,
    monitored_jobs=JOBS,
    default_status=DefaultSensorStatus.RUNNING,
    description="Adds a successful run's check results to the Data Docs site.",
)
def data_docs_after_run(context: RunStatusSensorContext, warehouse: WarehouseResource):
    return add_run_docs(context.dagster_run, warehouse)


@run_failure_sensor(
    monitored_jobs=JOBS,
    default_status=DefaultSensorStatus.RUNNING,
    description="Adds a failed run's check results (why it failed) to the Data Docs site.",
)
def data_docs_after_failure(context: RunFailureSensorContext, warehouse: WarehouseResource):
    return add_run_docs(context.dagster_run, warehouse)


SENSORS = [new_domain_sensor, release_after_domains, data_docs_after_run, data_docs_after_failure]
