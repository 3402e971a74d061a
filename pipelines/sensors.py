"""Sensors.

- `new_domain_sensor` watches the log root (the `build` resource's `logs_root`): every new domain
  folder (`pipelines.runner.scan_log_root`;
  folders whose names break the domain rule are skipped and named in the log) becomes a `domain` partition and gets a
  `build_domain` run.
- `release_after_domains` requests `publish_release` once every domain's latest `build_domain`
  run succeeded and was started after the last `publish_release` run.
- `data_docs_after_run` / `data_docs_after_failure`: a run of the three jobs launched from the UI
  (or by a sensor or schedule) adds its check results to the warehouse's Data Docs site, as the
  CLI does for its own runs (`pipelines.runner.add_data_docs`).
"""

from __future__ import annotations

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

from assets.partitions import DOMAINS
from pipelines.jobs import JOBS, domain_job, release_job
from pipelines.resources import BuildSettings, WarehouseResource
from pipelines.runner import CLI_TAG, BuildFailed, scan_log_root

PARTITION_TAG = "dagster/partition"


@sensor(
    job=domain_job,
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.STOPPED,
    description="Adds a domain partition for each new folder under the log root and builds it.",
)
def new_domain_sensor(context: SensorEvaluationContext, build: BuildSettings):
    logs_root = Path(build.settings().logs_root)
    try:
        found, skipped = scan_log_root(logs_root)
    except BuildFailed as exc:
        return SkipReason(str(exc))
    for name, why in skipped.items():
        context.log.warning(f"Folder {name!r} under {logs_root} is skipped: {why}")
    known = set(context.instance.get_dynamic_partitions(DOMAINS.name))
    new = [d for d in found if d not in known]
    if not new:
        named = "; ".join(f"{n!r} skipped: {w}" for n, w in skipped.items())
        return SkipReason(
            f"no new domain folder under {logs_root}" + (f" ({named})" if named else "")
        )
    return SensorResult(
        run_requests=[RunRequest(partition_key=d, run_key=f"new-domain:{d}") for d in new],
        dynamic_partitions_requests=[DOMAINS.build_add_request(new)],
    )


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
def release_after_domains(context: SensorEvaluationContext):
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
        if record is None or record.storage_id <= since:
            return SkipReason(f"domain {domain} has not been rebuilt since the last release")
        if record.dagster_run.status != DagsterRunStatus.SUCCESS:
            status = record.dagster_run.status.value
            return SkipReason(f"latest build_domain run of {domain} is {status}")
        builds[domain] = record.dagster_run.run_id
    run_key = "release:" + ",".join(f"{d}={builds[d]}" for d in domains)
    return RunRequest(run_key=run_key, tags={"recrm/domains": ",".join(domains)})


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
