"""The staging, entries and benchmark assets of D's dimensions, materialized through Dagster on a
raw warehouse built in code (ingest itself is not run: its tables are already there)."""

import pytest
from dagster import AssetKey, AssetSelection, DagsterInstance, materialize

from core.settings import load_settings
from core.warehouse import Warehouse
from pipelines.definitions import ALL_ASSETS
from pipelines.resources import default_resources

DIMS = ("query_item_relevance", "behavior_prediction", "item_ranking")
DOMAINS = ("food_delivery", "hotel")


def _metadata(result, key: AssetKey) -> dict:
    mats = result.asset_materializations_for_node(key.to_python_identifier())
    return {k: v.value for k, v in mats[-1].metadata.items()}


@pytest.mark.slow
def test_staging_entries_judged_benchmark_through_dagster(raw_warehouse_path, tmp_path):
    settings = load_settings(warehouse_path=raw_warehouse_path, profile="small")
    resources = default_resources(settings)
    per_domain = AssetSelection.groups("staging", *DIMS)
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("domain", list(DOMAINS))
        for domain in DOMAINS:
            result = materialize(
                ALL_ASSETS, selection=per_domain, partition_key=domain, instance=instance,
                resources=resources,
            )  # fmt: skip
            assert result.success
            md = _metadata(result, AssetKey(["behavior_prediction", "entries"]))
            assert md["rows"] > 0 and sum(md["label_distribution"].values()) == md["rows"]
        result = materialize(
            ALL_ASSETS,
            selection=AssetSelection.assets(*[AssetKey([d, "benchmark"]) for d in DIMS]),
            instance=instance,
            resources=resources,
        )
        assert result.success
    wh = Warehouse(raw_warehouse_path)
    for dim in DIMS:
        md = _metadata(result, AssetKey([dim, "benchmark"]))
        assert md["rows"] == wh.count(f"benchmark_{dim}") == wh.count(f"judged_{dim}")
        assert set(md["rows_per_domain"]) == set(DOMAINS)
        assert md["asked"] == "all"
