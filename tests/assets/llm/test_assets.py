import pyarrow as pa
import pytest
from dagster import AssetKey, DagsterInstance, materialize

from assets.llm.assets import JUDGED_ASSETS, generated_turns
from assets.partitions import DOMAINS
from assets.resources import BuildSettings, LLMResource, WarehouseResource
from core.warehouse import Warehouse
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
            resources={
                "warehouse": WarehouseResource(path=str(wh.path)),
                "llm": LLMResource(),
                "build": BuildSettings(),
            },
        )
    assert result.success
    (mat,) = result.asset_materializations_for_node(asset_def.op.name)
    # The human label and nothing else: the one rule label below MIN_CONFIDENCE is left out.
    assert mat.metadata["rows"].value == 1 and mat.metadata["left_out_undecided"].value == 1
    assert mat.metadata["llm"].value == "off"
    copied = wh.query(f"SELECT * FROM judged_{dim} ORDER BY entry_id")
    expected = wh.query(
        f"SELECT * FROM entries_{dim} WHERE domain = 'hotel' AND label_source = 'human' "
        "ORDER BY entry_id"
    )
    assert copied.equals(expected)
    assert wh.query(
        "SELECT dimension, reason, rows FROM entries_left_out WHERE domain = 'hotel'"
    ).rows() == [(dim, "low_confidence", 1)]


def _materialize(asset_def, wh, partition="food"):
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(DOMAINS.name, ["food", "hotel"])
        result = materialize(
            [asset_def],
            partition_key=partition,
            instance=instance,
            resources={
                "warehouse": WarehouseResource(path=str(wh.path)),
                "llm": LLMResource(),
                "build": BuildSettings(),
            },
        )
    assert result.success
    (mat,) = result.asset_materializations_for_node(asset_def.op.name)
    return {k: v.value for k, v in mat.metadata.items()}


def test_with_an_endpoint_the_judge_runs_and_usage_is_recorded(
    tmp_path, no_llm_env, monkeypatch, fake_server, templates, make_rows
):
    monkeypatch.setenv("RECRM_LLM_BASE_URL", fake_server.base_url)
    monkeypatch.setenv("RECRM_LLM_API_KEY", "sk-should-not-show-1234")
    fake_server.responder = lambda body: '{"label": 2, "confidence": "medium"}'
    wh = Warehouse(tmp_path / "wh.duckdb")
    dim = "query_item_relevance"
    wh.write_table(f"entries_{dim}", make_rows[dim]("food"), schema=entry_schema(dim))
    asset_def = next(a for a in JUDGED_ASSETS if AssetKey([dim, "judged"]) in a.keys)
    meta = _materialize(asset_def, wh)
    assert meta["llm"] == "on" and meta["rows"] == 4 and meta["llm_calls"] == 4
    assert meta["decided_by_judge"] == 2 and meta["n_heuristic"] == 3 and meta["n_human"] == 1
    assert "sk-should-not-show" not in str(meta)
    judged = wh.query(f"SELECT label, label_source FROM judged_{dim} ORDER BY entry_id")
    assert judged["label_source"].to_list() == ["human", "llm_judge", "llm_judge", "heuristic"]
    usage = wh.query("SELECT * FROM llm_usage").to_dicts()
    assert usage == [
        {
            "asset": f"{dim}/judged",
            "dimension": dim,
            "domain": "food",
            "calls": 4,
            "cached_calls": 0,
            "prompt_tokens": usage[0]["prompt_tokens"],
            "completion_tokens": usage[0]["completion_tokens"],
            "failures": 0,
        }
    ]
    # A re-run is answered from the cache; its usage row replaces the first one.
    meta2 = _materialize(asset_def, wh)
    assert meta2["llm_calls"] == 0 and meta2["llm_cached_calls"] == 4
    assert wh.query("SELECT calls, cached_calls FROM llm_usage").rows() == [(0, 4)]
    assert fake_server.requests == 4


def test_dimensions_without_a_judge_pass_through_even_with_an_endpoint(
    tmp_path, no_llm_env, monkeypatch, fake_server
):
    monkeypatch.setenv("RECRM_LLM_BASE_URL", fake_server.base_url)
    wh = Warehouse(tmp_path / "wh.duckdb")
    dim = "behavior_prediction"
    wh.write_table(f"entries_{dim}", entry_schema(dim).empty_table(), schema=entry_schema(dim))
    asset_def = next(a for a in JUDGED_ASSETS if AssetKey([dim, "judged"]) in a.keys)
    meta = _materialize(asset_def, wh)
    own = {k: v for k, v in meta.items() if not k.startswith("dagster/")}
    assert own == {"rows": 0, "llm": "no judge for this dimension"}
    assert meta["dagster/table_name"] == f"warehouse.main.judged_{dim}"
    assert meta["dagster/row_count"] == meta["dagster/partition_row_count"] == 0
    assert fake_server.requests == 0


def test_generated_turns_asset_is_empty_without_an_endpoint(tmp_path, no_llm_env, raw_logs):
    wh = Warehouse(tmp_path / "wh.duckdb")
    raw_logs(wh)
    meta = _materialize(generated_turns, wh)
    assert {k: v for k, v in meta.items() if not k.startswith("dagster/")} == {
        "rows": 0,
        "llm": "off",
    }
    assert wh.table_exists("llm_generated_turns")
