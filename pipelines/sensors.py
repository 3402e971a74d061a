"""Sensors.

- `new_domain_sensor` watches the log root (the `build` resource's `logs_root`): every new domain
  folder (`pipelines.runner.scan_log_root`;
  folders whose names break the domain rule are skipped and named in the log) becomes a `domain` partition and gets a
  `build_domain` run.
- `release_after_domains` requests `publish_release` once every domain's latest `build_domain`
  run succeeded and was started after the last `publish_release` run.
"""

from __future__ import annotations

from pathlib import Path

from dagster import (
    DagsterRunStatus,
    DefaultSensorStatus,
    RunRequest,
    RunsFilter,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from assets.partitions import DOMAINS
from pipelines.jobs import domain_job, release_job
from pipelines.resources import BuildSettings
from pipelines.runner import BuildFailed, scan_log_root

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


SENSORS = [new_domain_sensor, release_after_domains]
