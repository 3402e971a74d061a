"""The `[<dimension>, "entries"]` step of a log-derived dimension (behaviour, ranking,
relevance): call the dimension's plain function that builds and writes the domain's rows of
entries_<dim> with the run's seed and size profile, and report rows and distributions.

What every such step reads besides its own inputs: the domain's settings (the template's
wording), the ingested files (the provenance's log fingerprint) and the requests (the split's
time cut)."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from assets.steps.contract import BuildContext, Step, StepResult
from core.warehouse import Warehouse
from schemas import tables
from schemas.profiles import SizeProfile

# (warehouse, domain, build seed, size profile) -> metadata of the written entries (with `rows`).
WriteFn = Callable[[Warehouse, str, int, SizeProfile], dict]

STAGING = (tables.REQUEST_ITEMS, tables.USER_HISTORIES, tables.ITEM_PROFILES)
ENTRY_COMMON = (tables.DOMAIN_SETTINGS, tables.INGEST_FILES, tables.raw("requests"))


@dataclass(frozen=True)
class LogEntriesStep(Step):
    """[<dimension>, entries]: `write` builds and writes the domain's entries; `what` says what
    one entry is (the asset's description)."""

    dimension: str
    write: WriteFn
    reads: tuple[tables.Table, ...]
    what: str

    kinds: ClassVar[frozenset[str]] = frozenset({"duckdb", "parquet"})

    @property
    def key(self) -> tuple[str, ...]:
        return (self.dimension, "entries")

    @property
    def group(self) -> str:
        return self.dimension

    @property
    def writes(self) -> tables.Table:
        return tables.entries(self.dimension)

    @property
    def description(self) -> str:
        return f"{self.what} -> `{self.writes.name}`"

    def run(self, ctx: BuildContext, wh: Warehouse, domain: str | None) -> StepResult:
        metadata = self.write(wh, domain, ctx.seed, ctx.profile)
        return StepResult(rows=metadata.get("rows"), metadata=metadata)
