"""Dagster definitions of the factual-consistency chain (per domain):
[factual_consistency, labelled] -> [factual_consistency, synthetic] -> [factual_consistency, entries].
"""

import polars as pl
import pyarrow as pa
from dagster import AssetExecutionContext, AssetKey, MaterializeResult, asset

from assets.dimensions.common.entries import finalize_entries, write_entries
from assets.dimensions.common.provenance import provenance_params
from assets.dimensions.factual_consistency.build import (
    DIMENSION,
    assemble_entries,
    describe,
    label_turns,
    synthesize,
)
from assets.dimensions.factual_consistency.turns import generated_turn_counts, load_turns
from assets.partitions import DOMAINS
from core.templates import load_template
from pipelines.resources import BuildSettings, WarehouseResource
from schemas.entries import ITEM, UNSUPPORTED_CLAIM, entries_table, entry_schema
from schemas.profiles import get_profile

LABELLED_TABLE = f"{DIMENSION}_labelled"
SYNTHETIC_TABLE = f"{DIMENSION}_synthetic"
STEP_SCHEMA = pa.schema(
    [
        pa.field("domain", pa.string(), nullable=False),
        pa.field("turn_id", pa.string()),
        pa.field("request_id", pa.string()),
        pa.field("user_id_hash", pa.string()),
        pa.field("query", pa.string()),
        pa.field("ts", pa.timestamp("us")),
        pa.field("response", pa.string()),
        pa.field("evidence", pa.list_(ITEM)),
        pa.field("unsupported_claims", pa.list_(UNSUPPORTED_CLAIM)),
        pa.field("label", pa.int8()),
        pa.field("is_synthetic", pa.bool_()),
        pa.field("label_source", pa.string()),
        pa.field("operator", pa.string()),
    ]
)
INGEST = [AssetKey(["ingest", t]) for t in ("agent_turns", "requests", "items")]
# Turns the LLM layer generated for requests without one (empty table when it is off).
GENERATED_TURNS = AssetKey(["instruction_following", "generated_turns"])


def _write(wh, table: str, domain: str, frame: pl.DataFrame) -> int:
    source = STEP_SCHEMA.empty_table() if frame.height == 0 else frame.to_arrow()
    return wh.write_partition(table, domain, source, schema=STEP_SCHEMA)


def _read(wh, table: str, domain: str) -> pl.DataFrame:
    return wh.read_partition(table, domain) if wh.table_exists(table) else pl.DataFrame()


@asset(
    key=AssetKey([DIMENSION, "labelled"]),
    group_name=DIMENSION,
    deps=[*INGEST, GENERATED_TURNS],
    partitions_def=DOMAINS,
    description=f"agent turns (logged and LLM-generated): every claim about a retrieved item checked by rule -> {LABELLED_TABLE}",
)
def factual_consistency_labelled(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> MaterializeResult:
    wh = warehouse.get()
    domain = context.partition_key
    turns = load_turns(wh, domain)
    labelled, stats = label_turns(turns)
    generated = generated_turn_counts(turns, labelled)
    if labelled.height:
        labelled = labelled.with_columns(pl.lit(domain).alias("domain"))
    rows = _write(wh, LABELLED_TABLE, domain, labelled)
    return MaterializeResult(metadata={**describe(labelled), **stats, **generated, "rows": rows})


@asset(
    key=AssetKey([DIMENSION, "synthetic"]),
    group_name=DIMENSION,
    deps=[AssetKey([DIMENSION, "labelled"])],
    partitions_def=DOMAINS,
    description=f"planted hallucinations in consistent responses -> {SYNTHETIC_TABLE}",
)
def factual_consistency_synthetic(
    context: AssetExecutionContext, warehouse: WarehouseResource, build: BuildSettings
) -> MaterializeResult:
    wh = warehouse.get()
    domain = context.partition_key
    settings = build.settings(warehouse_path=warehouse.path)
    ratio = get_profile(settings.profile).positive_ratio[DIMENSION]
    synthetic, stats = synthesize(_read(wh, LABELLED_TABLE, domain), settings.seed, ratio)
    rows = _write(wh, SYNTHETIC_TABLE, domain, synthetic)
    return MaterializeResult(metadata={**describe(synthetic), **stats, "rows": rows})


@asset(
    key=AssetKey([DIMENSION, "entries"]),
    group_name=DIMENSION,
    deps=[AssetKey([DIMENSION, "labelled"]), AssetKey([DIMENSION, "synthetic"])],
    partitions_def=DOMAINS,
    description=f"deduplicated, balanced, rendered and split entries -> {entries_table(DIMENSION)}",
)
def factual_consistency_entries(
    context: AssetExecutionContext, warehouse: WarehouseResource, build: BuildSettings
) -> MaterializeResult:
    wh = warehouse.get()
    domain = context.partition_key
    settings = build.settings(warehouse_path=warehouse.path)
    profile = get_profile(settings.profile)
    template = load_template(DIMENSION)
    frame = assemble_entries(
        _read(wh, LABELLED_TABLE, domain),
        _read(wh, SYNTHETIC_TABLE, domain),
        domain,
        settings.seed,
        profile.positive_ratio[DIMENSION],
        provenance_params(wh, domain, DIMENSION, template),
    )
    summary = describe(frame)
    if frame.height:
        entries = finalize_entries(
            frame, DIMENSION, template, settings.seed, profile.split_fractions
        )
    else:
        entries = pl.from_arrow(entry_schema(DIMENSION).empty_table())
    metadata = write_entries(wh, DIMENSION, domain, entries)
    return MaterializeResult(metadata={**summary, **metadata})
