"""The Dagster chain [factual_consistency, labelled -> synthetic -> entries] on a warehouse."""

import sys
from pathlib import Path

import polars as pl
import pytest
from dagster import AssetKey, DagsterInstance, materialize

from assets.dimensions.factual_consistency.assets import (
    LABELLED_TABLE,
    SYNTHETIC_TABLE,
    factual_consistency_entries,
    factual_consistency_labelled,
    factual_consistency_synthetic,
)
from core.warehouse import Warehouse
from loggen.agent_turns import AgentErrorRates, make_agent_turns
from pipelines.resources import BuildSettings, WarehouseResource
from schemas.entries import entry_schema

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "llm_support"))

from generated_turns import DOMAIN, MODEL, build_warehouse  # noqa: E402


def _warehouse(path, catalog, domain="food_delivery", n=300) -> Warehouse:
    requests, retrieved, items = catalog
    requests, retrieved = requests.head(n), retrieved.head(n)
    turns, _ = make_agent_turns(requests, retrieved, items, domain, 4, AgentErrorRates())
    wh = Warehouse(path)
    d = pl.lit(domain).alias("domain")
    wh.write_partition("raw_items", domain, items.with_columns(d))
    wh.write_partition(
        "raw_requests", domain,
        requests.select(d, "request_id", pl.col("user_id").alias("user_id_hash"), "query", "ts", "lat", "lon"),
    )  # fmt: skip
    wh.write_partition(
        "raw_agent_turns", domain, turns.with_columns(d, pl.int_range(pl.len()).alias("source_row"))
    )
    return wh


@pytest.mark.slow
def test_the_chain_materializes_and_writes_entries(tmp_path, catalog):
    wh = _warehouse(tmp_path / "wh.duckdb", catalog)
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("domain", ["food_delivery"])
        result = materialize(
            [
                factual_consistency_labelled,
                factual_consistency_synthetic,
                factual_consistency_entries,
            ],
            partition_key="food_delivery",
            instance=instance,
            resources={
                "warehouse": WarehouseResource(path=str(tmp_path / "wh.duckdb")),
                "build": BuildSettings(seed=3, profile="small"),
            },
        )
    assert result.success
    meta = {
        m.asset_key.path[-1]: m.step_materialization_data.materialization.metadata
        for m in result.get_asset_materialization_events()
    }
    assert meta["labelled"]["rows"].value == wh.count(LABELLED_TABLE, "food_delivery") == 300
    assert meta["synthetic"]["rows"].value == wh.count(SYNTHETIC_TABLE, "food_delivery") > 0
    assert (
        meta["entries"]["label_distribution"].value["0"]
        == meta["entries"]["label_distribution"].value["1"]
    )
    assert (
        "synthetic_share_by_operator" in meta["entries"]
        and "unsupported_claims_by_field" in meta["entries"]
    )
    entries = wh.read_partition("entries_factual_consistency", "food_delivery")
    assert entries.columns == entry_schema("factual_consistency").names
    assert entries.height == meta["entries"]["rows"].value
    assert set(entries["label_source"]) == {"rule", "synthetic"}


def test_labelled_takes_generated_turns_and_reports_them(tmp_path):
    """The labelled step reads llm_generated_turns too and runs after the generator."""
    assert (
        AssetKey(["instruction_following", "generated_turns"])
        in (factual_consistency_labelled.asset_deps[factual_consistency_labelled.key])
    )
    wh = build_warehouse(tmp_path / "wh.duckdb")
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("domain", [DOMAIN])
        result = materialize(
            [factual_consistency_labelled],
            partition_key=DOMAIN,
            instance=instance,
            resources={"warehouse": WarehouseResource(path=str(tmp_path / "wh.duckdb"))},
        )
    assert result.success
    meta = result.get_asset_materialization_events()[0].materialization.metadata
    assert meta["generated_turns_in"].value == meta["generated_turns_used"].value == 2
    assert meta["generator_models"].value == {MODEL: 2}
    labelled = wh.read_partition(LABELLED_TABLE, DOMAIN)
    generated = labelled.filter(pl.col("turn_id").str.starts_with("llm_generated_turns:"))
    assert generated.height == 2 and set(generated["label_source"]) == {"rule"}
    assert sorted(generated["label"].to_list()) == [0, 1]
