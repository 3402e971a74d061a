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

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from dagster import (
    MetadataValue,
)

from assets.checks.benchmark import validate_benchmark
from assets.checks.frames import suite_columns
from assets.checks.meaning import missing_domains, supported_reasons, table_failures
from assets.checks.personal_data import scan_relation
from assets.checks.raw import ID_COLUMNS as RAW_ID_COLUMNS
from assets.checks.raw import validate_raw
from assets.checks.results import results_dir, site_index, store_outcome, validation_root
from assets.checks.validation import SuiteOutcome
from assets.steps.contract import BuildContext, Check, CheckResult
from assets.steps.dagster import step_check
from core.sql import quote_ident
from core.warehouse import Warehouse
from schemas import tables
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


@dataclass(frozen=True)
class BenchmarkCheck(Check):
    """A blocking check of `[<dimension>, benchmark]` that reads the benchmark table."""

    dimension: str

    blocking: ClassVar[bool] = True

    @property
    def asset(self) -> tuple[str, ...]:
        return (self.dimension, "benchmark")

    @property
    def reads(self) -> tuple[tables.Table, ...]:
        return (tables.benchmark(self.dimension),)


@dataclass(frozen=True)
class BenchmarkExpectations(BenchmarkCheck):
    """[<dimension>, benchmark]:expectations (blocking): the benchmark table meets its suite."""

    name: ClassVar[str] = "expectations"

    @property
    def description(self) -> str:
        return f"{self.reads[0].name} meets schemas/expectations/benchmark.py"

    def run(self, ctx: BuildContext, wh: Warehouse, domain: str | None) -> CheckResult:
        settings = ctx.settings
        table = self.reads[0].name
        if not wh.table_exists(table):
            return CheckResult(False, {"error": f"table {table} does not exist", "rows": 0})
        with wh.connect(read_only=True) as con:
            outcome = validate_benchmark(
                con, self.dimension, quote_ident(table), get_profile(settings.profile)
            )
        stored = store_outcome(
            results_dir(settings.warehouse_path, ctx.run_id),
            f"{self.dimension}.benchmark",
            outcome,
        )
        return CheckResult(
            outcome.success, check_metadata(outcome, stored, settings.warehouse_path)
        )


@dataclass(frozen=True)
class NoPersonalData(BenchmarkCheck):
    """[<dimension>, benchmark]:no_personal_data (blocking): the independent detector finds no
    personal data in the benchmark table's text columns."""

    name: ClassVar[str] = "no_personal_data"

    @property
    def description(self) -> str:
        return (
            f"no value of {self.reads[0].name}'s text columns holds a phone number, bank card, "
            "ID number, IP or e-mail address, by the independent detector core/pii_detect.py"
        )

    def run(self, ctx: BuildContext, wh: Warehouse, domain: str | None) -> CheckResult:
        table = self.reads[0].name
        if not wh.table_exists(table):
            return CheckResult(False, {"error": f"table {table} does not exist"})
        with wh.connect(read_only=True) as con:
            report = scan_relation(con, quote_ident(table), self.dimension)
        metadata = report.metadata()
        if not report.passed:
            metadata["error"] = (
                f"{metadata['values_with_personal_data']} value(s) hold personal data: "
                + "; ".join(report.examples[:2])
            )
        return CheckResult(report.passed, metadata)


@dataclass(frozen=True)
class Meaning(BenchmarkCheck):
    """[<dimension>, benchmark]:meaning (blocking): the benchmark table means something (not one
    label class, not one query, not one prompt) and every domain whose drop supports the
    dimension has entries (assets/checks/meaning.py). A failure here is the cause of the others,
    so `recrm build` names it first."""

    name: ClassVar[str] = "meaning"
    uses_llm: ClassVar[bool] = True  # with an endpoint, a drop without agent turns supports IF/FC

    @property
    def reads(self) -> tuple[tables.Table, ...]:
        return (
            tables.benchmark(self.dimension),
            tables.judged(self.dimension),
            tables.raw("items"),
        )

    @property
    def description(self) -> str:
        return (
            f"{self.reads[0].name} means something: not one label class, not one query, not one "
            "prompt; and every domain whose drop supports the dimension has entries "
            "(assets/checks/meaning.py). A failure here is the cause of the others."
        )

    def run(self, ctx: BuildContext, wh: Warehouse, domain: str | None) -> CheckResult:
        table, judged, items = (t.name for t in self.reads)
        with wh.connect(read_only=True) as con:
            failures = table_failures(con, self.dimension, table) if wh.table_exists(table) else []
        source = judged if wh.table_exists(judged) else table
        per_domain = (
            dict(wh.query(f"SELECT domain, count(*) FROM {quote_ident(source)} GROUP BY 1").rows())
            if wh.table_exists(source)
            else {}
        )
        domains = (
            wh.query(f"SELECT DISTINCT domain FROM {quote_ident(items)} ORDER BY 1")[
                "domain"
            ].to_list()
            if wh.table_exists(items)
            else []
        )
        supported = supported_reasons(
            Path(ctx.settings.logs_root), domains, self.dimension, ctx.llm.enabled
        )
        failures = missing_domains(per_domain, supported, self.dimension) + failures
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
        return CheckResult(not failures, metadata)


@dataclass(frozen=True)
class IngestExpectations(Check):
    """[ingest, <table>]:keys (blocking) or :contract (warning), per domain."""

    table: ContractTable
    kind: str  # "keys" or "contract"

    partitioned: ClassVar[bool] = True

    @property
    def asset(self) -> tuple[str, ...]:
        return ("ingest", self.table.name)

    @property
    def name(self) -> str:
        return self.kind

    @property
    def blocking(self) -> bool:
        return self.kind == "keys"

    @property
    def reads(self) -> tuple[tables.Table, ...]:
        return (tables.raw(self.table.name),)

    @property
    def description(self) -> str:
        return f"raw_{self.table.name} {self.kind} (schemas/expectations/raw.py)"

    def run(self, ctx: BuildContext, wh: Warehouse, domain: str | None) -> CheckResult:
        severity = "error" if self.blocking else "warn"
        suite = (raw_keys_suite if self.blocking else raw_contract_suite)(self.table)
        # The keys suite reads a few columns; loading every column of a million raw rows into
        # pandas for it cost more than the validation.
        columns = [*suite_columns(suite), *RAW_ID_COLUMNS] if self.blocking else None
        outcome = validate_raw(wh, self.table, domain, suite, columns)
        if outcome is None:
            # An optional table a domain does not ship has no warehouse table to check.
            note = f"no table {self.table.warehouse_table}"
            present = self.table.name not in REQUIRED_TABLES
            return CheckResult(present, {"rows": 0, "domain": domain, "note": note}, severity)
        warehouse_path = ctx.settings.warehouse_path
        stored = store_outcome(
            results_dir(warehouse_path, ctx.run_id),
            f"ingest.{self.table.name}.{self.kind}.{domain}",
            outcome,
        )
        metadata = {**check_metadata(outcome, stored, warehouse_path), "domain": domain}
        return CheckResult(outcome.success, metadata, severity)


BENCHMARK_CHECKS = [step_check(BenchmarkExpectations(d)) for d in DIMENSIONS]
PERSONAL_DATA_CHECKS = [step_check(NoPersonalData(d)) for d in DIMENSIONS]
MEANING_CHECKS = [step_check(Meaning(d)) for d in DIMENSIONS]
INGEST_CHECKS = [
    step_check(IngestExpectations(t, k))
    for t in CONTRACT_TABLES.values()
    for k in ("keys", "contract")
]
