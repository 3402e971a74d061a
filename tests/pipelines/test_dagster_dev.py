"""The real `dagster dev` loads the code location from the repository root and serves GraphQL."""

from __future__ import annotations

import pytest

from schemas.logs import CONTRACT_TABLES

QUERY = """
{
  assetNodes { assetKey { path } groupName isPartitioned }
  repositoriesOrError {
    ... on RepositoryConnection { nodes { sensors { name } schedules { name cronSchedule } } }
  }
}
"""


@pytest.mark.slow
def test_dagster_dev_serves_ingest_assets(tmp_path, dagster_dev):
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(
        f"telemetry:\n  enabled: false\nstorage:\n  sqlite:\n    base_dir: {home}/storage\n"
    )
    env = {"RECRM_WAREHOUSE": str(tmp_path / "wh.duckdb")}
    with dagster_dev(home, tmp_path / "dagster.log", env) as query:
        data = query(QUERY)
    ingest = {
        n["assetKey"]["path"][1]: n
        for n in data["assetNodes"]
        if n["assetKey"]["path"][0] == "ingest"
    }
    assert set(ingest) == {*CONTRACT_TABLES, "domain_settings"}
    assert all(n["groupName"] == "ingest" and n["isPartitioned"] for n in ingest.values())
    [repo] = data["repositoriesOrError"]["nodes"]
    assert {"new_domain_sensor", "release_after_domains"} <= {s["name"] for s in repo["sensors"]}
    assert {"name": "weekly_rebuild", "cronSchedule": "0 3 * * 1"} in repo["schedules"]
