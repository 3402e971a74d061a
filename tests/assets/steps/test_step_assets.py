"""The step contract made into Dagster assets: a step's dependencies are the producers of what
it reads, its partitioning and table metadata follow what it writes, and a materialization runs
the step once with the run's settings (built once, from the resources, never from the
environment inside the step), its run config and a real warehouse."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import pyarrow as pa
from dagster import AssetKey, Config, DagsterInstance, materialize

from assets.partitions import DOMAINS
from assets.resources import BuildSettings, WarehouseResource
from assets.steps.contract import BuildContext, Step, StepResult
from assets.steps.dagster import step_asset, step_deps
from core.warehouse import Warehouse
from schemas import tables

SCHEMA = pa.schema([pa.field("domain", pa.string(), nullable=False), pa.field("n", pa.int64())])
OUT = tables.Table("stg_step_contract_test", (("staging", "contract_test"),), SCHEMA)


class CopiesConfig(Config):
    copies: int = 2


@dataclass(frozen=True)
class SeedRows(Step):
    """Writes `copies` rows holding the build seed for the domain."""

    key: ClassVar[tuple[str, ...]] = ("staging", "contract_test")
    group: ClassVar[str] = "staging"
    reads: ClassVar[tuple] = (tables.raw("users"), tables.INGEST_FILES, tables.DOMAIN_SETTINGS)
    writes: ClassVar[tables.Table] = OUT
    description: ClassVar[str] = "the seed, copied"
    config: ClassVar[type] = CopiesConfig

    def run(self, ctx: BuildContext, wh: Warehouse, domain: str | None) -> StepResult:
        rows = pa.table(
            {"domain": [domain] * ctx.config.copies, "n": [ctx.seed] * ctx.config.copies},
            schema=SCHEMA,
        )
        written = wh.write_partition(OUT.name, domain, rows, schema=SCHEMA)
        ctx.log.info(f"wrote {written}")
        return StepResult(written, {"rows": written, "profile": ctx.profile.name})


def test_dependencies_are_the_producers_of_the_tables_read():
    deps = set(step_deps(SeedRows()))
    # ingest_files is written by every ingest step: all of them come before.
    assert deps == {AssetKey(["ingest", t]) for t in ("agent_turns", "annotations", "events",
                    "impressions", "items", "requests", "users", "domain_settings")}  # fmt: skip
    spec = step_asset(SeedRows())
    assert spec.key == AssetKey(["staging", "contract_test"])
    assert spec.partitions_def == DOMAINS
    assert spec.metadata_by_key[spec.key]["dagster/table_name"].startswith("warehouse.main.")


def test_a_materialization_runs_the_step_with_the_runs_settings_and_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RECRM_SEED", "999")  # the resource's seed wins, read once per run
    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(DOMAINS.name, ["food"])
    warehouse = tmp_path / "wh.duckdb"
    result = materialize(
        [step_asset(SeedRows())],
        partition_key="food",
        instance=instance,
        resources={
            "warehouse": WarehouseResource(path=str(warehouse)),
            "build": BuildSettings(seed=7, profile="small"),
        },
        run_config={"ops": {"staging__contract_test": {"config": {"copies": 3}}}},
    )
    assert result.success
    [mat] = result.asset_materializations_for_node("staging__contract_test")
    metadata = {k: v.value for k, v in mat.metadata.items()}
    assert metadata["rows"] == 3
    assert metadata["profile"] == "small"
    assert metadata["dagster/partition_row_count"] == 3
    assert metadata["dagster/row_count"] == 3
    rows = Warehouse(str(warehouse)).read_partition(OUT.name, "food")
    assert rows["n"].to_list() == [7, 7, 7]


def test_every_registered_table_names_its_producers():
    for table in tables.TABLES.values():
        assert table.producers, table.name
    assert tables.table("judged_item_ranking").producers == (("item_ranking", "judged"),)
    assert tables.benchmark("item_ranking").partitioned is False


@dataclass(frozen=True)
class SeedRowsToo(SeedRows):
    key: ClassVar[tuple[str, ...]] = ("staging", "contract_test_too")


def test_the_settings_are_loaded_once_per_run_not_per_step(tmp_path, monkeypatch):
    import assets.resources.settings as resource_module

    loads = []
    real = resource_module.load_settings

    def counted(**overrides):
        loads.append(overrides)
        return real(**overrides)

    monkeypatch.setattr(resource_module, "load_settings", counted)
    monkeypatch.chdir(tmp_path)
    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(DOMAINS.name, ["food"])
    result = materialize(
        [step_asset(SeedRows()), step_asset(SeedRowsToo())],
        partition_key="food",
        instance=instance,
        resources={
            "warehouse": WarehouseResource(path=str(tmp_path / "wh.duckdb")),
            "build": BuildSettings(seed=5),
        },
    )
    assert result.success
    assert len(loads) == 1
    assert loads[0]["seed"] == 5
