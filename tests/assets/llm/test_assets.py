import pyarrow as pa
import pytest
from dagster import AssetKey, DagsterInstance, materialize

from assets.llm.assets import JUDGED_ASSETS
from assets.partitions import DOMAINS
from core.warehouse import Warehouse
from pipelines.resources import LLMResource, WarehouseResource
from schemas.entries import DIMENSIONS, entry_schema


@pytest.fixture
def no_llm_env(monkeypatch, tmp_path):
    for name in ("RECRM_LLM_BASE_URL", "RECRM_LLM_MODEL", "RECRM_LLM_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RECRM_CONFIG", str(tmp_path / "absent.toml"))


def test_judged_assets_exist_per_dimension():
    keys = {k for a in JUDGED_ASSETS for k in a.keys}
    assert keys == {AssetKey([d, "judged"]) for d in DIMENSIONS}
    for a in JUDGED_ASSETS:
        (key,) = a.keys
        assert a.group_names_by_key[key] == key.path[0]
        assert AssetKey([key.path[0], "entries"]) in a.asset_deps[key]


def test_without_endpoint_the_layer_copies_the_domain(tmp_path, no_llm_env, make_rows):
    wh = Warehouse(tmp_path / "wh.duckdb")
    dim = "query_item_relevance"
    rows = pa.concat_tables([make_rows[dim]("food"), make_rows[dim]("hotel", n=2)])
    wh.write_table(f"entries_{dim}", rows, schema=entry_schema(dim))
    asset_def = next(a for a in JUDGED_ASSETS if AssetKey([dim, "judged"]) in a.keys)
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(DOMAINS.name, ["food", "hotel"])
        result = materialize(
            [asset_def],
            partition_key="hotel",
            instance=instance,
            resources={"warehouse": WarehouseResource(path=str(wh.path)), "llm": LLMResource()},
        )
    assert result.success
    (mat,) = result.asset_materializations_for_node(asset_def.op.name)
    assert mat.metadata["rows"].value == 2
    assert mat.metadata["llm"].value == "off"
    copied = wh.query(f"SELECT * FROM judged_{dim} ORDER BY entry_id")
    expected = wh.query(f"SELECT * FROM entries_{dim} WHERE domain = 'hotel' ORDER BY entry_id")
    assert copied.equals(expected)
