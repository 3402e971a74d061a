"""The Dagster ingest assets: keys, group, partitions, metadata, and a materialization."""

from __future__ import annotations

import pytest
from dagster import AssetKey, DagsterInstance, materialize

from assets.ingest.assets import DEFAULT_KEY_WARNING, INGEST_ASSETS
from assets.partitions import DOMAINS
from assets.resources import BuildSettings, WarehouseResource
from schemas.logs import CONTRACT_TABLES


def test_one_asset_per_contract_table():
    keys = {a.key for a in INGEST_ASSETS}
    assert keys == {AssetKey(["ingest", t]) for t in CONTRACT_TABLES}
    for a in INGEST_ASSETS:
        assert a.group_names_by_key[a.key] == "ingest"
        assert a.partitions_def == DOMAINS
    impressions = next(a for a in INGEST_ASSETS if a.key == AssetKey(["ingest", "impressions"]))
    assert set(impressions.asset_deps[impressions.key]) == {
        AssetKey(["ingest", "items"]),
        AssetKey(["ingest", "requests"]),
    }


def _materialize(drop, tmp_path, monkeypatch, hash_key):
    if hash_key:
        monkeypatch.setenv("RECRM_HASH_KEY", hash_key)
    else:
        monkeypatch.delenv("RECRM_HASH_KEY", raising=False)
        monkeypatch.setenv("RECRM_ALLOW_DEV_KEY", "1")  # the public key needs the opt-in
    monkeypatch.chdir(tmp_path)  # no recrm.toml here
    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(DOMAINS.name, ["food"])
    warehouse = tmp_path / "wh.duckdb"
    return materialize(
        INGEST_ASSETS,
        partition_key="food",
        instance=instance,
        resources={
            "warehouse": WarehouseResource(path=str(warehouse)),
            "build": BuildSettings(logs_root=str(drop)),
        },
    )


@pytest.mark.parametrize("hash_key", ["test-secret-key", None])
def test_materialize_reports_reconciled_counts(drop, tmp_path, monkeypatch, expected, hash_key):
    if hash_key:
        result = _materialize(drop, tmp_path, monkeypatch, hash_key)
    else:
        with pytest.warns(UserWarning, match="PUBLIC development key"):
            result = _materialize(drop, tmp_path, monkeypatch, hash_key)
    assert result.success
    metadata = {
        table: {k: v.value for k, v in mat.metadata.items()}
        for table in CONTRACT_TABLES
        for mat in result.asset_materializations_for_node(f"ingest__{table}")
    }
    for table, (read, accepted, quarantined) in expected.counts.items():
        md = metadata[table]
        assert (md["read"], md["accepted"], md["quarantined"]) == (read, accepted, quarantined)
        assert md["rows"] == accepted
        assert md["read"] == md["accepted"] + md["quarantined"]
    assert "absent" in metadata["annotations"]["note"]
    assert metadata["items"]["quarantine_reasons"]["unparseable line"] == 3
    warned = metadata["items"]["hash_key"] == DEFAULT_KEY_WARNING
    assert warned == (hash_key is None)
