"""The staging steps: request sessions, user histories, item profiles.

Each runs one set-based SELECT over the domain's raw tables and replaces the domain's rows of its
staging table (`assets/staging/build.py`); `step_asset` makes each a Dagster asset.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from dagster import Config

from assets.staging.build import stage_item_profiles, stage_request_items, stage_user_histories
from assets.staging.histories import DEFAULT_HISTORY_K
from assets.steps.contract import BuildContext, Step, StepResult
from assets.steps.dagster import step_asset
from core.warehouse import Warehouse
from schemas import tables


class HistoryConfig(Config):
    k: int = DEFAULT_HISTORY_K  # events kept per history (the most recent ones)


@dataclass(frozen=True)
class StagingStep(Step):
    """[staging, <name>]: `stage` writes the domain's rows of `writes` and returns their count;
    `describe` adds figures of the written rows to the metadata."""

    name: str
    reads: tuple[tables.Table, ...]
    writes: tables.Table
    what: str
    stage: Callable[[Warehouse, str, BuildContext], int]
    describe: Callable[[Warehouse, str, BuildContext], dict] = lambda wh, domain, ctx: {}

    group: ClassVar[str] = "staging"

    @property
    def key(self) -> tuple[str, ...]:
        return ("staging", self.name)

    @property
    def description(self) -> str:
        return f"{self.what} -> `{self.writes.name}`"

    def run(self, ctx: BuildContext, wh: Warehouse, domain: str | None) -> StepResult:
        rows = self.stage(wh, domain, ctx)
        return StepResult(rows, {"rows": rows, **self.describe(wh, domain, ctx)})


@dataclass(frozen=True)
class UserHistoriesStep(StagingStep):
    config: ClassVar[type[Config]] = HistoryConfig


def _request_counts(wh: Warehouse, domain: str, ctx: BuildContext) -> dict:
    stats = wh.query(
        f"SELECT count(DISTINCT request_id) AS requests, "
        f"count(*) FILTER (WHERE engagement = 1) AS clicked, "
        f"count(*) FILTER (WHERE engagement = 2) AS ordered "
        f"FROM {tables.REQUEST_ITEMS.name} WHERE domain = $domain",
        {"domain": domain},
    ).row(0, named=True)
    return {k: int(v) for k, v in stats.items()}


def _history_length(wh: Warehouse, domain: str, ctx: BuildContext) -> dict:
    mean_len = wh.query(
        f"SELECT coalesce(avg(history_len), 0) AS m FROM {tables.USER_HISTORIES.name} "
        "WHERE domain = $domain",
        {"domain": domain},
    )["m"][0]
    return {"k": ctx.config.k, "mean_history_len": float(mean_len)}


ITEM_PROFILES = StagingStep(
    "item_profiles",
    reads=(tables.raw("items"),),
    writes=tables.ITEM_PROFILES,
    what="ITEM struct per item",
    stage=lambda wh, domain, ctx: stage_item_profiles(wh, domain),
)
# Without logged impressions, the domain's negative sampling (its settings) draws shown items
# from the catalog (raw_items).
REQUEST_ITEMS = StagingStep(
    "request_items",
    reads=(
        *(tables.raw(t) for t in ("requests", "impressions", "events", "items")),
        tables.DOMAIN_SETTINGS,
    ),
    writes=tables.REQUEST_ITEMS,
    what="request x shown item with clicks, orders, engagement",
    stage=lambda wh, domain, ctx: stage_request_items(wh, domain),
    describe=_request_counts,
)
USER_HISTORIES = UserHistoriesStep(
    "user_histories",
    reads=tuple(tables.raw(t) for t in ("requests", "events", "items")),
    writes=tables.USER_HISTORIES,
    what="last K events strictly before each request",
    stage=lambda wh, domain, ctx: stage_user_histories(wh, domain, ctx.config.k),
    describe=_history_length,
)

STAGING_STEPS = (ITEM_PROFILES, REQUEST_ITEMS, USER_HISTORIES)

item_profiles = step_asset(ITEM_PROFILES)
request_items = step_asset(REQUEST_ITEMS)
user_histories = step_asset(USER_HISTORIES)
