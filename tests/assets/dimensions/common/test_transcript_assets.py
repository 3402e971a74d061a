"""The Dagster chain [<dim>, labelled -> synthetic -> entries] of both agent-transcript
dimensions (instruction_following, factual_consistency) on a warehouse."""

import sys
from pathlib import Path
from typing import NamedTuple

import polars as pl
import pytest
from dagster import AssetKey, AssetsDefinition, DagsterInstance, materialize

from assets.dimensions.factual_consistency import assets as fc
from assets.dimensions.instruction_following import assets as if_
from assets.resources import BuildSettings, WarehouseResource
from core.warehouse import Warehouse
from loggen.agent_turns import AgentErrorRates, make_agent_turns
from schemas.entries import entry_schema

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "llm_support"))

from generated_turns import DOMAIN, MODEL, build_warehouse  # noqa: E402


class Chain(NamedTuple):
    dimension: str
    labelled: AssetsDefinition
    synthetic: AssetsDefinition
    entries: AssetsDefinition
    labelled_table: str
    synthetic_table: str
    found_metadata: str  # the dimension's own breakdown of what its rule found


CHAINS = [
    Chain(
        "factual_consistency",
        fc.factual_consistency_labelled,
        fc.factual_consistency_synthetic,
        fc.factual_consistency_entries,
        fc.LABELLED_TABLE,
        fc.SYNTHETIC_TABLE,
        "unsupported_claims_by_field",
    ),
    Chain(
        "instruction_following",
        if_.instruction_following_labelled,
        if_.instruction_following_synthetic,
        if_.instruction_following_entries,
        if_.LABELLED_TABLE,
        if_.SYNTHETIC_TABLE,
        "violations_by_type",
    ),
]
BY_DIMENSION = pytest.mark.parametrize("chain", CHAINS, ids=[c.dimension for c in CHAINS])


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


def _materialize(tmp_path, assets, domain="food_delivery"):
    """Materialize `assets` for `domain` on the test warehouse (seed 3, small profile)."""
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("domain", [domain])
        return materialize(
            assets,
            partition_key=domain,
            instance=instance,
            resources={
                "warehouse": WarehouseResource(path=str(tmp_path / "wh.duckdb")),
                "build": BuildSettings(seed=3, profile="small"),
            },
        )


def _dimension(chain: Chain):
    return {"factual_consistency": fc.FACTUAL_CONSISTENCY}.get(
        chain.dimension, if_.INSTRUCTION_FOLLOWING
    )


@pytest.mark.slow
@BY_DIMENSION
def test_the_chain_materializes_and_writes_entries(tmp_path, catalog, chain):
    wh = _warehouse(tmp_path / "wh.duckdb", catalog)
    result = _materialize(tmp_path, [chain.labelled, chain.synthetic, chain.entries])
    assert result.success
    meta = {
        m.asset_key.path[-1]: m.step_materialization_data.materialization.metadata
        for m in result.get_asset_materialization_events()
    }
    assert meta["labelled"]["rows"].value == wh.count(chain.labelled_table, "food_delivery") == 300
    assert meta["synthetic"]["rows"].value == wh.count(chain.synthetic_table, "food_delivery") > 0
    # Balanced before the split policy holds out the turns outside their user's window.
    labels = meta["entries"]["label_distribution"].value
    assert abs(labels["0"] - labels["1"]) <= 0.1 * (labels["0"] + labels["1"])
    assert meta["entries"]["held_out_by_split_policy"].value > 0
    assert (
        "synthetic_share_by_operator" in meta["entries"] and chain.found_metadata in meta["entries"]
    )
    entries = wh.read_partition(f"entries_{chain.dimension}", "food_delivery")
    assert entries.columns == entry_schema(chain.dimension).names
    assert entries.height == meta["entries"]["rows"].value
    assert set(entries["label_source"]) == {"rule", "synthetic"}


@BY_DIMENSION
def test_labelled_takes_generated_turns_and_reports_them(tmp_path, chain):
    """The labelled step reads llm_generated_turns too and runs after the generator."""
    assert (
        AssetKey(["instruction_following", "generated_turns"])
        in chain.labelled.asset_deps[chain.labelled.key]
    )
    wh = build_warehouse(tmp_path / "wh.duckdb")
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("domain", [DOMAIN])
        result = materialize(
            [chain.labelled],
            partition_key=DOMAIN,
            instance=instance,
            resources={
                "warehouse": WarehouseResource(path=str(tmp_path / "wh.duckdb")),
                "build": BuildSettings(),
            },
        )
    assert result.success
    meta = result.get_asset_materialization_events()[0].materialization.metadata
    assert meta["generated_turns_in"].value == meta["generated_turns_used"].value == 2
    assert meta["generator_models"].value == {MODEL: 2}
    labelled = wh.read_partition(chain.labelled_table, DOMAIN)
    generated = labelled.filter(pl.col("turn_id").str.starts_with("llm_generated_turns:"))
    assert generated.height == 2 and set(generated["label_source"]) == {"rule"}
    assert sorted(generated["label"].to_list()) == [0, 1]


@pytest.mark.slow
@BY_DIMENSION
def test_entries_made_a_slice_at_a_time_are_those_of_the_whole_frame(
    tmp_path, catalog, chain, monkeypatch
):
    """The entries step keeps, orders and finishes the turns a slice of the entry order at a
    time, out of DuckDB; its table is row for row what the in-memory assembly of the same
    labelled and synthetic rows gives (dedup, balance, render, split), at any slice size."""
    from assets.dimensions.common import transcripts
    from assets.dimensions.common.entries import finalize_entries
    from assets.dimensions.common.provenance import provenance_params
    from assets.dimensions.common.splits import domain_split
    from assets.dimensions.common.wording import domain_template
    from schemas.profiles import get_profile

    wh = _warehouse(tmp_path / "wh.duckdb", catalog)
    assert _materialize(tmp_path, [chain.labelled, chain.synthetic]).success
    labelled = wh.read_partition(chain.labelled_table, "food_delivery")
    labelled_extra = pl.concat([labelled, labelled.head(5)])  # repeated turns: one entry each
    dim = _dimension(chain)
    dim.write(wh, chain.labelled_table, "food_delivery", [labelled_extra])
    synthetic = wh.read_partition(chain.synthetic_table, "food_delivery")

    profile = get_profile("small")
    template = domain_template(wh, chain.dimension, "food_delivery")
    frame = transcripts.assemble_turn_entries(
        labelled_extra, synthetic, chain.dimension, "food_delivery", 3,
        profile.positive_ratio[chain.dimension],
        provenance_params(wh, "food_delivery", chain.dimension, template),
        dim.repeat_key,
    )  # fmt: skip
    split = domain_split(wh, "food_delivery", 3, profile.split_fractions)
    expected, held_out = finalize_entries(
        dim.finish_entries(frame), chain.dimension, template, split, time_column="ts"
    )
    assert expected.height > 100 and held_out > 0
    table = f"entries_{chain.dimension}"
    for slice_rows in (25_000, 7):
        monkeypatch.setattr(transcripts, "ENTRY_SLICE_ROWS", slice_rows)
        assert _materialize(tmp_path, [chain.entries]).success
        assert wh.read_partition(table, "food_delivery").equals(expected)
    assert len(list(wh.files_root.joinpath(table).rglob("*.parquet"))) > 10


@pytest.mark.slow
@BY_DIMENSION
def test_turns_labelled_a_slice_at_a_time_are_those_of_the_whole_domain(
    tmp_path, catalog, chain, monkeypatch
):
    """The labelled step reads, labels and writes a slice of turns at a time; its rows and its
    metadata are those of labelling the domain's turns at once (the factual checker still
    learns its category names from every turn's items, `label_context`)."""
    from assets.dimensions.factual_consistency import turns as turns_module

    wh = _warehouse(tmp_path / "wh.duckdb", catalog)
    dim = _dimension(chain)
    whole, _ = dim.label_turns(turns_module.load_turns(wh, "food_delivery"), None)
    expected = pl.from_arrow(whole.to_arrow().cast(dim.step_schema))
    metadata = []
    for slice_rows in (20_000, 7):
        monkeypatch.setattr(turns_module, "TURN_SLICE_ROWS", slice_rows)
        result = _materialize(tmp_path, [chain.labelled])
        assert result.success
        event = result.get_asset_materialization_events()[0]
        metadata.append({k: v.value for k, v in event.materialization.metadata.items()})
        assert wh.read_partition(chain.labelled_table, "food_delivery").equals(expected)
    assert metadata[0] == metadata[1] and metadata[0]["rows"] == expected.height
    assert metadata[0]["turns"] == 300 and metadata[0]["label_distribution"]


def test_every_slice_is_labelled_knowing_every_item_of_the_domain(tmp_path, catalog, monkeypatch):
    """A slice's labels may need the whole domain (the factual checker's category names): the
    step gathers the distinct evidence items of every slice before labelling the first."""
    import dataclasses
    import logging

    from assets.dimensions.common.transcript_assets import LabelledStep
    from assets.dimensions.factual_consistency import turns as turns_module
    from assets.steps.contract import BuildContext

    monkeypatch.setattr(turns_module, "TURN_SLICE_ROWS", 6)
    wh = _warehouse(tmp_path / "wh.duckdb", catalog)
    every_item = set(
        turns_module.load_turns(wh, "food_delivery")["evidence"]
        .explode()
        .struct.field("item_id")
        .drop_nulls()
    )
    contexts = []

    def label_turns(turns, context):
        own = set(turns["evidence"].explode().struct.field("item_id").drop_nulls())
        contexts.append((turns.height, context, own))
        return fc.FACTUAL_CONSISTENCY.label_turns(turns, None)

    dim = dataclasses.replace(
        fc.FACTUAL_CONSISTENCY,
        label_context=lambda items: frozenset(items["item_id"]),
        label_turns=label_turns,
    )
    with wh.session():
        ctx = BuildContext(settings=None, log=logging.getLogger("test"))
        result = LabelledStep(dim).run(ctx, wh, "food_delivery")
    assert [n for n, _, _ in contexts] == [6] * 50 and result.metadata["turns"] == 300
    assert all(context == every_item for _, context, _ in contexts)
    assert any(own < every_item for _, _, own in contexts)  # a slice alone knows fewer


@pytest.mark.slow
@BY_DIMENSION
def test_negatives_planted_from_stashed_slices_are_those_of_the_whole_domain(
    tmp_path, catalog, chain, monkeypatch
):
    """A domain with more positives than MEMORY_ROWS has them read a slice at a time into a
    scratch folder; the synthetic table and its metadata are those of the positives held in
    memory."""
    from assets.dimensions.common import transcript_assets

    _warehouse(tmp_path / "wh.duckdb", catalog)
    wh = Warehouse(tmp_path / "wh.duckdb")
    assert _materialize(tmp_path, [chain.labelled]).success
    tables, metadata = [], []
    for memory_rows, slice_rows in ((50_000, 20_000), (0, 7)):
        monkeypatch.setattr(transcript_assets, "MEMORY_ROWS", memory_rows)
        monkeypatch.setattr(transcript_assets, "POSITIVE_SLICE_ROWS", slice_rows)
        result = _materialize(tmp_path, [chain.synthetic])
        assert result.success
        event = result.get_asset_materialization_events()[0]
        metadata.append({k: v.value for k, v in event.materialization.metadata.items()})
        tables.append(wh.read_partition(chain.synthetic_table, "food_delivery"))
    assert tables[0].height > 20 and tables[1].equals(tables[0])
    assert metadata[1] == metadata[0] and metadata[0]["made"] == tables[0].height
