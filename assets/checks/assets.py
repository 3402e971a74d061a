"""Asset checks: the expectation suites run on the ingest tables and on each benchmark table.

- `[<dimension>, "benchmark"]` / `expectations` (blocking): a failure stops the release.
- `["ingest", <table>]` / `keys` (blocking, per domain): null or duplicate keys would multiply
  rows in every join downstream, so that domain's later layers do not run.
- `["ingest", <table>]` / `contract` (warning, per domain): columns, types, value sets, masked
  text. These rules are enforced again where they matter (the benchmark suites), so a warning
  here does not stop a domain from building.
A failed check's metadata lists each failed expectation with its row count and examples; the
full GX result is written beside the run (see `assets.checks.results`).
"""

import warnings

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetKey,
    MetadataValue,
    PreviewWarning,
    asset_check,
)

from assets.checks.benchmark import validate_benchmark
from assets.checks.frames import suite_columns
from assets.checks.meaning import missing_domains, supported_reasons, table_failures
from assets.checks.personal_data import scan_relation
from assets.checks.raw import ID_COLUMNS as RAW_ID_COLUMNS
from assets.checks.raw import validate_raw
from assets.checks.results import results_dir, site_index, store_outcome, validation_root
from assets.checks.validation import SuiteOutcome
from assets.partitions import DOMAINS, domain_key
from core.sql import quote_ident
from pipelines.resources import BuildSettings, LLMResource, WarehouseResource
from schemas.entries import DIMENSIONS
from schemas.expectations import raw_contract_suite, raw_keys_suite
from schemas.logs import CONTRACT_TABLES, REQUIRED_TABLES, ContractTable
from schemas.profiles import get_profile


def check_metadata(outcome: SuiteOutcome, stored, warehouse_path) -> dict:
    """Metadata of a check result: counts, the failed expectations, where the result is, and
    the Data Docs site that shows it (built when the run ends: `recrm` adds each run)."""
    lines = [f"- {f.describe()}" for f in outcome.failed]
    return {
        "suite": outcome.suite,
        "rows": outcome.rows,
        "expectations": outcome.evaluated,
        "failed_count": len(outcome.failed),
        "failed_expectations": MetadataValue.json(outcome.failures_json()),
        "failures": MetadataValue.md("\n".join(lines) if lines else "none"),
        "result_path": MetadataValue.path(str(stored)),
        "data_docs": MetadataValue.path(str(site_index(validation_root(warehouse_path)))),
    }


def _benchmark_check(dimension: str):
    @asset_check(
        asset=AssetKey([dimension, "benchmark"]),
        name="expectations",
        blocking=True,
        description=f"benchmark_{dimension} meets schemas/expectations/benchmark.py",
    )
    def _check(
        context: AssetCheckExecutionContext, warehouse: WarehouseResource, build: BuildSettings
    ) -> AssetCheckResult:
        settings = build.settings(warehouse_path=warehouse.path)
        table = f"benchmark_{dimension}"
        with warehouse.session() as wh:
            if not wh.table_exists(table):
                return AssetCheckResult(
                    passed=False, metadata={"error": f"table {table} does not exist", "rows": 0}
                )
            with wh.connect(read_only=True) as con:
                outcome = validate_benchmark(
                    con, dimension, quote_ident(table), get_profile(settings.profile)
                )
        stored = store_outcome(
            results_dir(settings.warehouse_path, context.run.run_id),
            f"{dimension}.benchmark",
            outcome,
        )
        return AssetCheckResult(
            passed=outcome.success,
            metadata=check_metadata(outcome, stored, settings.warehouse_path),
        )

    return _check


def _personal_data_check(dimension: str):
    @asset_check(
        asset=AssetKey([dimension, "benchmark"]),
        name="no_personal_data",
        blocking=True,
        description=(
            f"no value of benchmark_{dimension}'s text columns holds a phone number, bank card, "
            "ID number, IP or e-mail address, by the independent detector core/pii_detect.py"
        ),
    )
    def _check(context: AssetCheckExecutionContext, warehouse: WarehouseResource):
        table = f"benchmark_{dimension}"
        with warehouse.session() as wh:
            if not wh.table_exists(table):
                return AssetCheckResult(
                    passed=False, metadata={"error": f"table {table} does not exist"}
                )
            with wh.connect(read_only=True) as con:
                report = scan_relation(con, quote_ident(table), dimension)
        metadata = report.metadata()
        if not report.passed:
            metadata["error"] = (
                f"{metadata['values_with_personal_data']} value(s) hold personal data: "
                + "; ".join(report.examples[:2])
            )
        return AssetCheckResult(passed=report.passed, metadata=metadata)

    return _check


def _meaning_check(dimension: str):
    @asset_check(
        asset=AssetKey([dimension, "benchmark"]),
        name="meaning",
        blocking=True,
        description=(
            f"benchmark_{dimension} means something: not one label class, not one query, not one "
            "prompt; and every domain whose drop supports the dimension has entries "
            "(assets/checks/meaning.py). A failure here is the cause of the others."
        ),
    )
    def _check(
        warehouse: WarehouseResource, build: BuildSettings, llm: LLMResource
    ) -> AssetCheckResult:
        from pathlib import Path

        settings = build.settings(warehouse_path=warehouse.path)
        table, judged = f"benchmark_{dimension}", f"judged_{dimension}"
        with warehouse.session() as wh:
            with wh.connect(read_only=True) as con:
                failures = table_failures(con, dimension, table) if wh.table_exists(table) else []
            source = judged if wh.table_exists(judged) else table
            per_domain = (
                dict(
                    wh.query(
                        f"SELECT domain, count(*) FROM {quote_ident(source)} GROUP BY 1"
                    ).rows()
                )
                if wh.table_exists(source)
                else {}
            )
            domains = (
                wh.query("SELECT DISTINCT domain FROM raw_items ORDER BY 1")["domain"].to_list()
                if wh.table_exists("raw_items")
                else []
            )
        supported = supported_reasons(
            Path(settings.logs_root), domains, dimension, llm.config().enabled
        )
        failures = missing_domains(per_domain, supported, dimension) + failures
        lines = [f.line() for f in failures]
        metadata = {
            "rules": "single_class, constant_query, constant_prompt, no_entries",
            "failed_count": len(failures),
            "causes": MetadataValue.json(lines),
            "entries_per_domain": MetadataValue.json(per_domain),
            "failures": MetadataValue.md("\n".join(f"- {x}" for x in lines) if lines else "none"),
        }
        if lines:
            metadata["error"] = " | ".join(lines)
        return AssetCheckResult(passed=not failures, metadata=metadata)

    return _check


def _ingest_check(table: ContractTable, kind: str):
    blocking = kind == "keys"
    suite_of = raw_keys_suite if blocking else raw_contract_suite

    @asset_check(
        asset=AssetKey(["ingest", table.name]),
        name=kind,
        blocking=blocking,
        partitions_def=DOMAINS,
        description=f"raw_{table.name} {kind} (schemas/expectations/raw.py)",
    )
    def _check(
        context: AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> AssetCheckResult:
        domain = domain_key(context)
        severity = AssetCheckSeverity.ERROR if blocking else AssetCheckSeverity.WARN
        suite = suite_of(table)
        # The keys suite reads a few columns; loading every column of a million raw rows into
        # pandas for it cost more than the validation.
        columns = [*suite_columns(suite), *RAW_ID_COLUMNS] if blocking else None
        with warehouse.session() as wh:
            outcome = validate_raw(wh, table, domain, suite, columns)
        if outcome is None:
            # An optional table a domain does not ship has no warehouse table to check.
            present = table.name not in REQUIRED_TABLES
            return AssetCheckResult(
                passed=present,
                severity=severity,
                metadata={"rows": 0, "domain": domain, "note": f"no table {table.warehouse_table}"},
            )
        stored = store_outcome(
            results_dir(warehouse.path, context.run.run_id),
            f"ingest.{table.name}.{kind}.{domain}",
            outcome,
        )
        return AssetCheckResult(
            passed=outcome.success,
            severity=severity,
            metadata={**check_metadata(outcome, stored, warehouse.path), "domain": domain},
        )

    return _check


BENCHMARK_CHECKS = [_benchmark_check(d) for d in DIMENSIONS]
PERSONAL_DATA_CHECKS = [_personal_data_check(d) for d in DIMENSIONS]
MEANING_CHECKS = [_meaning_check(d) for d in DIMENSIONS]
with warnings.catch_warnings():
    # Partitioned asset checks are a Dagster preview feature; they are what per-domain
    # ingest validation needs, and the warning would print on every load.
    warnings.simplefilter("ignore", PreviewWarning)
    INGEST_CHECKS = [
        _ingest_check(t, k) for t in CONTRACT_TABLES.values() for k in ("keys", "contract")
    ]
