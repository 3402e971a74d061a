"""Schedules: `weekly_rebuild` rebuilds every known domain on Monday at 03:00 (UTC)."""

from __future__ import annotations

from dagster import (
    DefaultScheduleStatus,
    RunRequest,
    ScheduleEvaluationContext,
    SkipReason,
    schedule,
)

from assets.partitions import DOMAINS
from pipelines.jobs import domain_job


@schedule(
    job=domain_job,
    cron_schedule="0 3 * * 1",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.STOPPED,
    description="Rebuild every domain partition from its current log drop, weekly.",
)
def weekly_rebuild(context: ScheduleEvaluationContext):
    domains = sorted(context.instance.get_dynamic_partitions(DOMAINS.name))
    if not domains:
        return SkipReason("no domain partitions yet: the new-domain sensor or `recrm` adds them")
    week = context.scheduled_execution_time.strftime("%Y-%m-%d")
    return [RunRequest(partition_key=d, run_key=f"weekly:{week}:{d}") for d in domains]


SCHEDULES = [weekly_rebuild]
