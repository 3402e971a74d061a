"""The ingest steps: one per contract table, `ingest/<table>`, and the domain's settings, group
`ingest`, partitioned by domain (`step_asset` makes each a Dagster asset)."""

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from dagster import MetadataValue

from assets.ingest.capabilities import capabilities, capabilities_markdown, profile_drop
from assets.ingest.cast import TimestampWindow
from assets.ingest.discover import ignored_files
from assets.ingest.domain_settings import ingest_domain_settings
from assets.ingest.table import IngestResult, ingest_table
from assets.steps.contract import BuildContext, Step, StepResult
from assets.steps.dagster import step_asset
from core.settings import warn_if_default_key
from core.warehouse import Warehouse
from schemas import tables
from schemas.domain import load_domain_settings
from schemas.logs import CONTRACT_TABLES, REQUIRED_TABLES, ContractTable

DEFAULT_KEY_WARNING = (
    "user ids hashed with the PUBLIC development key: set RECRM_HASH_KEY before sharing anything"
)


def ingest_metadata(result: IngestResult, default_key: bool) -> dict:
    metadata = {
        "rows": result.accepted,
        "read": result.read,
        "accepted": result.accepted,
        "quarantined": result.quarantined,
        "ignored": result.ignored_records,  # event types left out by the domain's mapping
        "files": [f["path"] for f in result.files],
        "quarantine_reasons": result.reasons,
        "hash_key": DEFAULT_KEY_WARNING if default_key else "secret key from RECRM_HASH_KEY",
        "ignored_files": result.ignored,
    }
    if result.absent:
        metadata["note"] = f"optional table {result.table!r} absent from the drop: empty partition"
    return metadata


@dataclass(frozen=True)
class IngestStep(Step):
    """[ingest, <table>]: read the domain's files of one contract table, cast them to the
    contract, hash user ids and mask text -> `raw_<table>`; broken records -> `quarantine`, the
    files read -> `ingest_files`. It reads the tables its references point to (`items` before
    `impressions`)."""

    table: ContractTable

    group: ClassVar[str] = "ingest"
    kinds: ClassVar[frozenset[str]] = frozenset({"duckdb", "great_expectations"})

    @property
    def key(self) -> tuple[str, ...]:
        return ("ingest", self.table.name)

    @property
    def reads(self) -> tuple[tables.Table, ...]:
        return tuple(tables.raw(r) for r in sorted({ref for _, ref, _ in self.table.references}))

    @property
    def writes(self) -> tables.Table:
        return tables.raw(self.table.name)

    @property
    def description(self) -> str:
        kind = "required" if self.table.name in REQUIRED_TABLES else "optional"
        return (
            f"Raw `{self.table.name}` ({kind}) of one domain, cast to the contract, user ids "
            f"hashed, text masked -> `{self.writes.name}`; broken records -> `quarantine`."
        )

    def preflight(self, ctx: BuildContext) -> None:
        settings = ctx.settings
        settings.require_usable_key()  # the public key only with an explicit opt-in
        if settings.hash_key_is_default:
            warn_if_default_key(settings)  # Python warning: shows in the CLI and in tests
            ctx.log.warning(DEFAULT_KEY_WARNING)  # and in the run's event log

    def run(self, ctx: BuildContext, wh: Warehouse, domain: str | None) -> StepResult:
        settings = ctx.settings
        window = TimestampWindow.default(
            settings.timestamp_window_start, settings.timestamp_window_future_days
        )
        result = ingest_table(
            wh, Path(settings.logs_root), domain, self.table, settings.hash_key, window
        )
        metadata = ingest_metadata(result, settings.hash_key_is_default)
        metadata["hash_key_id"] = settings.hash_key_id
        metadata["timestamp_window"] = window.describe()
        return StepResult(result.accepted, metadata)


@dataclass(frozen=True)
class DomainSettingsStep(Step):
    """[ingest, domain_settings]: the domain's `domain.toml`, validated and recorded; its
    metadata shows the files no step reads and the capability preflight (`recrm inspect`)."""

    key: ClassVar[tuple[str, ...]] = ("ingest", "domain_settings")
    group: ClassVar[str] = "ingest"
    reads: ClassVar[tuple] = ()  # the log folder, no table
    writes: ClassVar[tables.Table] = tables.DOMAIN_SETTINGS
    description: ClassVar[str] = (
        "The domain's settings from `<domain>/domain.toml` (schemas/domain.py: time zone; "
        f"absent file = defaults) -> `{tables.DOMAIN_SETTINGS.name}`."
    )
    uses_llm: ClassVar[bool] = True  # the preflight says what an LLM endpoint would add

    def run(self, ctx: BuildContext, wh: Warehouse, domain: str | None) -> StepResult:
        logs_root = Path(ctx.settings.logs_root)
        row = ingest_domain_settings(wh, logs_root, domain)
        mapping = load_domain_settings(logs_root, domain)
        stems = [mapping.file_stem(t) for t in CONTRACT_TABLES]
        ignored = ignored_files(logs_root, domain, stems)
        for name, why in ignored.items():
            ctx.log.warning(f"{domain}/{name} is ignored: {why}")
        caps = capabilities(profile_drop(logs_root, domain), ctx.llm.enabled)
        return StepResult(
            1,
            {
                "rows": 1,
                "file": row["source_file"] or "absent: defaults apply",
                "settings": row["settings"],
                # Every file of the folder is either read by an ingest step or named here.
                "ignored_files": ignored,
                "capabilities": {
                    c.dimension: ("supported: " if c.supported else "NOT supported: ") + c.reason
                    for c in caps
                },
                # The same preflight as a table: which dimensions the drop supports, and why not.
                "capabilities_table": MetadataValue.md(capabilities_markdown(caps)),
                "supported_dimensions": ", ".join(c.dimension for c in caps if c.supported)
                or "none",
            },
        )


INGEST_STEPS = [IngestStep(t) for t in CONTRACT_TABLES.values()]
INGEST_ASSETS = [step_asset(step) for step in INGEST_STEPS]
domain_settings = step_asset(DomainSettingsStep())
