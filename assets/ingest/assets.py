"""Dagster wiring: one partitioned asset per contract table, `ingest/<table>`, group `ingest`."""

from pathlib import Path

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
)

from assets.capabilities import capabilities, capabilities_markdown, profile_drop
from assets.ingest.cast import TimestampWindow
from assets.ingest.discover import ignored_files
from assets.ingest.domain_settings import (
    DOMAIN_SETTINGS_SCHEMA,
    DOMAIN_SETTINGS_TABLE,
    ingest_domain_settings,
)
from assets.ingest.table import IngestResult, ingest_table
from assets.partitions import DOMAINS, domain_key
from assets.table_metadata import table_metadata, table_spec
from core.settings import warn_if_default_key
from pipelines.resources import BuildSettings, LLMResource, WarehouseResource
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


def make_ingest_asset(table: ContractTable) -> AssetsDefinition:
    refs = sorted({ref for _, ref, _ in table.references})
    kind = "required" if table.name in REQUIRED_TABLES else "optional"

    @asset(
        key=["ingest", table.name],
        group_name="ingest",
        partitions_def=DOMAINS,
        deps=[AssetKey(["ingest", r]) for r in refs],
        description=(
            f"Raw `{table.name}` ({kind}) of one domain, cast to the contract, user ids hashed, "
            f"text masked -> `{table.warehouse_table}`; broken records -> `quarantine`."
        ),
        kinds={"duckdb", "great_expectations"},
        metadata=table_spec(table.warehouse_table, table.warehouse_schema()),
    )
    def _ingest(
        context: AssetExecutionContext, warehouse: WarehouseResource, build: BuildSettings
    ) -> MaterializeResult:
        settings = build.settings(warehouse_path=warehouse.path)
        settings.require_usable_key()  # the public key only with an explicit opt-in
        if settings.hash_key_is_default:
            warn_if_default_key(settings)  # Python warning: shows in the CLI and in tests
            context.log.warning(DEFAULT_KEY_WARNING)  # and in the run's event log
        domain = domain_key(context)
        window = TimestampWindow.default(
            settings.timestamp_window_start, settings.timestamp_window_future_days
        )
        with warehouse.session() as wh:
            result = ingest_table(
                wh, Path(settings.logs_root), domain, table, settings.hash_key, window
            )
            standard = table_metadata(
                wh, table.warehouse_table, table.warehouse_schema(), result.accepted
            )
        metadata = ingest_metadata(result, settings.hash_key_is_default)
        metadata["hash_key_id"] = settings.hash_key_id
        metadata["timestamp_window"] = window.describe()
        return MaterializeResult(metadata={**metadata, **standard})

    return _ingest


INGEST_ASSETS = [make_ingest_asset(t) for t in CONTRACT_TABLES.values()]


@asset(
    key=["ingest", "domain_settings"],
    group_name="ingest",
    partitions_def=DOMAINS,
    description=(
        "The domain's settings from `<domain>/domain.toml` (schemas/domain.py: time zone; "
        f"absent file = defaults) -> `{DOMAIN_SETTINGS_TABLE}`."
    ),
    kinds={"duckdb"},
    metadata=table_spec(DOMAIN_SETTINGS_TABLE, DOMAIN_SETTINGS_SCHEMA),
)
def domain_settings(
    context: AssetExecutionContext,
    warehouse: WarehouseResource,
    build: BuildSettings,
    llm: LLMResource,
) -> MaterializeResult:
    settings = build.settings(warehouse_path=warehouse.path)
    domain = domain_key(context)
    with warehouse.session() as wh:
        row = ingest_domain_settings(wh, Path(settings.logs_root), domain)
        standard = table_metadata(wh, DOMAIN_SETTINGS_TABLE, DOMAIN_SETTINGS_SCHEMA, 1)
    mapping = load_domain_settings(Path(settings.logs_root), domain)
    stems = [mapping.file_stem(t) for t in CONTRACT_TABLES]
    ignored = ignored_files(Path(settings.logs_root), domain, stems)
    for name, why in ignored.items():
        context.log.warning(f"{domain}/{name} is ignored: {why}")
    # The capability preflight (`recrm inspect`), shown in the UI with the domain's settings.
    caps = capabilities(profile_drop(Path(settings.logs_root), domain), llm.config().enabled)
    return MaterializeResult(
        metadata={
            **standard,
            "rows": 1,
            "file": row["source_file"] or "absent: defaults apply",
            "settings": row["settings"],
            # Every file of the folder is either read by an ingest asset or named here.
            "ignored_files": ignored,
            "capabilities": {
                c.dimension: ("supported: " if c.supported else "NOT supported: ") + c.reason
                for c in caps
            },
            # The same preflight as a table: which dimensions the drop supports, and why not.
            "capabilities_table": MetadataValue.md(capabilities_markdown(caps)),
            "supported_dimensions": ", ".join(c.dimension for c in caps if c.supported) or "none",
        }
    )
