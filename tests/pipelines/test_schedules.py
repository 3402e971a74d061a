"""The weekly rebuild schedule."""

from __future__ import annotations

from datetime import UTC, datetime

from dagster import SkipReason, build_schedule_context, instance_for_test

from assets.partitions import DOMAINS
from pipelines.schedules import SCHEDULES, weekly_rebuild


def test_weekly_rebuild_requests_every_domain():
    assert [weekly_rebuild] == SCHEDULES
    assert weekly_rebuild.cron_schedule == "0 3 * * 1"
    assert weekly_rebuild.job_name == "build_domain"
    with instance_for_test() as instance:  # schedules need an instance with a ref
        when = datetime(2026, 5, 4, 3, 0, tzinfo=UTC)  # a Monday
        context = build_schedule_context(instance=instance, scheduled_execution_time=when)
        skipped = weekly_rebuild(context)
        assert isinstance(skipped, SkipReason)

        instance.add_dynamic_partitions(DOMAINS.name, ["hotel", "food"])
        requests = weekly_rebuild(
            build_schedule_context(instance=instance, scheduled_execution_time=when)
        )
        assert [(r.partition_key, r.run_key) for r in requests] == [
            ("food", "weekly:2026-05-04:food"),
            ("hotel", "weekly:2026-05-04:hotel"),
        ]
