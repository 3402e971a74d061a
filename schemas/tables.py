"""The warehouse's tables, one registry: each table's name, schema (where one is declared) and
the pipeline steps that write it (their asset keys, as path parts).

A step declares the tables it reads and the one it writes (`assets/steps/`); its Dagster
dependencies are the producers of what it reads (`producers_of`), so lineage cannot drift from
the SQL. Table names are spelled here once: `raw(...)`, `entries(...)`, `judged(...)`,
`benchmark(...)` instead of f-strings. A module below `assets` may not know a step's own tables
(an agent-transcript dimension's `<dim>_labelled`): the module that declares them `register`s
them, with their schema.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa

from schemas.entries import DIMENSIONS, entries_table, entry_schema
from schemas.evaluation import ITEMS_SCHEMA
from schemas.logs import CONTRACT_TABLES, QUARANTINE_SCHEMA, QUARANTINE_TABLE
from schemas.staging import (
    ITEM_PROFILES_SCHEMA,
    REQUEST_ITEMS_SCHEMA,
    STG_ITEM_PROFILES,
    STG_REQUEST_ITEMS,
    STG_USER_HISTORIES,
    USER_HISTORIES_SCHEMA,
)

StepKey = tuple[str, ...]  # an asset key's path: ("ingest", "users"), ("release",)


@dataclass(frozen=True)
class Table:
    """One warehouse table: written by `producers` (usually one step), read by name."""

    name: str
    producers: tuple[StepKey, ...]
    schema: pa.Schema | None = None
    # Rows carry `domain` and are written per domain partition; False: one table of all domains.
    partitioned: bool = True
    # Where it is kept: "warehouse" (a DuckDB table or file table) or "files" (a step's output
    # folder outside the warehouse: the releases, evaluation results).
    stored: str = "warehouse"
    # The partitions of a partitioned table: "domain" (the log folders) or "scorer" (the
    # evaluation names).
    partition: str = "domain"

    @property
    def in_warehouse(self) -> bool:
        return self.stored == "warehouse"

    def __str__(self) -> str:
        return self.name


TABLES: dict[str, Table] = {}


def register(table: Table) -> Table:
    """Add `table` (a second registration of a name must be the same table)."""
    known = TABLES.get(table.name)
    if known is not None and known != table:
        raise ValueError(f"table {table.name!r} is registered twice, differently")
    TABLES[table.name] = table
    return table


def table(name: str) -> Table:
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"table {name!r} is not in the registry (schemas/tables.py)") from None


def producers_of(tables: Iterable[Table]) -> list[StepKey]:
    """The steps that write `tables`, each once, in a stable order."""
    return sorted({p for t in tables for p in t.producers})


# -- ingest ------------------------------------------------------------------------------------

INGEST_STEPS: tuple[StepKey, ...] = tuple(("ingest", t) for t in CONTRACT_TABLES)

INGEST_FILES_SCHEMA = pa.schema(
    [
        pa.field("domain", pa.string(), nullable=False),
        pa.field("table_name", pa.string()),
        pa.field("path", pa.string()),  # relative to the log root: <domain>/<file>
        pa.field("sha256", pa.string()),  # of the file as stored (compressed bytes for .gz)
        pa.field("rows_read", pa.int64()),
    ]
)
DOMAIN_SETTINGS_SCHEMA = pa.schema(
    [
        pa.field("domain", pa.string(), nullable=False),
        pa.field("settings", pa.string()),  # DomainSettings as JSON
        pa.field("source_file", pa.string()),  # <domain>/domain.toml, null when absent
        pa.field("sha256", pa.string()),
    ]
)

for _name, _contract in CONTRACT_TABLES.items():
    register(Table(_contract.warehouse_table, (("ingest", _name),), _contract.warehouse_schema()))

# Every ingest step records its files and quarantines its broken records here.
INGEST_FILES = register(Table("ingest_files", INGEST_STEPS, INGEST_FILES_SCHEMA))
QUARANTINE = register(Table(QUARANTINE_TABLE, INGEST_STEPS, QUARANTINE_SCHEMA))
DOMAIN_SETTINGS = register(
    Table("raw_domain_settings", (("ingest", "domain_settings"),), DOMAIN_SETTINGS_SCHEMA)
)


def raw(contract_table: str) -> Table:
    """`raw_<table>` of a contract table (`users`, `requests`, ...)."""
    return table(CONTRACT_TABLES[contract_table].warehouse_table)


# -- staging -----------------------------------------------------------------------------------

REQUEST_ITEMS = register(
    Table(STG_REQUEST_ITEMS, (("staging", "request_items"),), REQUEST_ITEMS_SCHEMA)
)
USER_HISTORIES = register(
    Table(STG_USER_HISTORIES, (("staging", "user_histories"),), USER_HISTORIES_SCHEMA)
)
ITEM_PROFILES = register(
    Table(STG_ITEM_PROFILES, (("staging", "item_profiles"),), ITEM_PROFILES_SCHEMA)
)

# -- LLM layer ---------------------------------------------------------------------------------

GENERATED_TURNS_SCHEMA = pa.schema(
    [
        pa.field("domain", pa.string(), nullable=False),
        pa.field("turn_id", pa.string(), nullable=False),
        pa.field("request_id", pa.string()),
        pa.field("user_id_hash", pa.string()),
        pa.field("instruction", pa.string()),
        pa.field("query", pa.string()),
        pa.field("response", pa.string()),
        pa.field("retrieved_item_ids", pa.list_(pa.string())),
        pa.field("constraints", pa.string()),  # JSON text, as in agent_turns
        pa.field("model", pa.string()),
        pa.field("latency_ms", pa.int64()),
        pa.field("template_id", pa.string()),
        pa.field("template_hash", pa.string()),
    ]
)
GENERATED_TURNS = register(
    Table(
        "llm_generated_turns",
        (("instruction_following", "generated_turns"),),
        GENERATED_TURNS_SCHEMA,
    )
)

# -- entries, judged, benchmark: one of each per dimension -------------------------------------


def judged_table(dimension: str) -> str:
    """`judged_<dim>`: the dimension's entries after the LLM-judge layer."""
    return f"judged_{dimension}"


def benchmark_table(dimension: str) -> str:
    """`benchmark_<dim>`: all domains' judged entries, deduplicated and selected."""
    return f"benchmark_{dimension}"


def entries(dimension: str) -> Table:
    return table(entries_table(dimension))


def judged(dimension: str) -> Table:
    return table(judged_table(dimension))


def benchmark(dimension: str) -> Table:
    return table(benchmark_table(dimension))


def register_dimension(dimension: str) -> None:
    """The entries, judged and benchmark tables of `dimension`."""
    schema = entry_schema(dimension)
    register(Table(entries_table(dimension), ((dimension, "entries"),), schema))
    register(Table(judged_table(dimension), ((dimension, "judged"),), schema))
    register(Table(benchmark_table(dimension), ((dimension, "benchmark"),), schema, False))


for _dimension in DIMENSIONS:
    register_dimension(_dimension)


# -- side tables every entries/judged step of a dimension writes ------------------------------

# (domain, dimension, reason, rows): entries built and not kept (assets/dimensions/common/left_out.py).
LEFT_OUT_SCHEMA = pa.schema(
    [
        pa.field("domain", pa.string(), nullable=False),
        pa.field("dimension", pa.string()),
        pa.field("reason", pa.string()),
        pa.field("rows", pa.int64()),
    ]
)
LEFT_OUT = register(
    Table(
        "entries_left_out",
        tuple(sorted((d, step) for d in DIMENSIONS for step in ("entries", "judged"))),
        LEFT_OUT_SCHEMA,
    )
)
# The LLM calls and tokens of every step that calls one (its schema: core/llm/usage.py).
LLM_USAGE = register(
    Table(
        "llm_usage",
        tuple(sorted([(d, "judged") for d in DIMENSIONS] + [GENERATED_TURNS.producers[0]])),
    )
)

# -- outside the warehouse: the releases and the evaluations -----------------------------------

# `releases/<version>/`: shards, manifest and card (assets/release/).
RELEASES = register(Table("releases", (("release",),), None, False, stored="files"))
# One spec per evaluation name under results/.scorers/ (`recrm eval` registers it).
EVALUATION_SPECS = register(
    Table("evaluation_specs", (("evaluation", "scorer"),), None, stored="files", partition="scorer")
)
# `results/<release version>/<name>/`: items.parquet and summary.json of one evaluation.
EVALUATION_RESULTS = register(
    Table(
        "evaluation_results",
        (("evaluation", "result"),),
        ITEMS_SCHEMA,
        stored="files",
        partition="scorer",
    )
)
