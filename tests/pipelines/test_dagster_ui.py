"""What a user sees in `dagster dev` after `recrm build`, asked of the real webserver's GraphQL
API: the CLI's runs under the named jobs (`build_domain` per domain, `publish_release`), the
standard table metadata on every table asset (definition and latest materialization), kind
badges, and the release description intact."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.runner import CODE_LOCATION_NAME

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
# Not one table each: the release folder, and the evaluation group (not part of a build).
NOT_TABLES = {("release",), ("evaluation", "scorer"), ("evaluation", "result")}

JOB_RUNS = """
query JobRuns($job: String!, $location: String!) {
  pipelineOrError(params: {pipelineName: $job, repositoryName: "__repository__",
                           repositoryLocationName: $location}) {
    __typename
    ... on Pipeline { runs { runId status tags { key value } } }
  }
}
"""
ALL_RUNS = "{ runsOrError { ... on Runs { results { runId pipelineName status } } } }"
ASSETS = """
{
  assetNodes {
    assetKey { path }
    description
    kinds
    metadataEntries { label __typename }
    assetMaterializations(limit: 1) {
      partition
      metadataEntries {
        label
        __typename
        ... on IntMetadataEntry { intValue }
        ... on TextMetadataEntry { text }
      }
    }
  }
}
"""


def _instance_home(tmp_path: Path, work: Path) -> Path:
    """A DAGSTER_HOME whose storage is the one the CLI build wrote (`<work>/.dagster`)."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text(
        "telemetry:\n  enabled: false\n"
        f"storage:\n  sqlite:\n    base_dir: {work / '.dagster' / 'storage'}\n"
    )
    return home


def test_cli_build_shows_in_the_ui(sample_release: Path, sample_store, tmp_path: Path, dagster_dev):
    work = sample_release.parents[1]  # the build's cwd: dagster.yaml, .dagster/, data/tables
    manifest = json.loads((sample_release / "manifest.json").read_text())
    domains = sorted(manifest["domains"])
    home = _instance_home(tmp_path, work)
    with dagster_dev(home, tmp_path / "dagster.log") as query:
        runs = {}
        for job in ("build_domain", "publish_release"):
            found = query(JOB_RUNS, {"job": job, "location": CODE_LOCATION_NAME})
            assert found["pipelineOrError"]["__typename"] == "Pipeline", found
            runs[job] = found["pipelineOrError"]["runs"]
        every_run = query(ALL_RUNS)["runsOrError"]["results"]
        nodes = query(ASSETS)["assetNodes"]

    # The job history: one build_domain run per domain, one publish_release run, all from the CLI.
    partitions = sorted(
        next(t["value"] for t in r["tags"] if t["key"] == "dagster/partition")
        for r in runs["build_domain"]
    )
    assert partitions == domains
    assert len(runs["publish_release"]) == 1
    for run in runs["build_domain"] + runs["publish_release"]:
        assert run["status"] == "SUCCESS"
        assert {"key": "recrm/cli", "value": "true"} in run["tags"]
    assert not [r for r in every_run if r["pipelineName"] == "__ephemeral_asset_job__"]

    by_key = {tuple(n["assetKey"]["path"]): n for n in nodes}
    # The build's store is the default storage root: each count is its table's, read through
    # the catalog.
    for key, node in by_key.items():
        assert node["kinds"], f"{key}: no kind badge"
        if key in NOT_TABLES:
            continue
        declared = {e["label"] for e in node["metadataEntries"]}
        assert {"dagster/table_name", "dagster/column_schema"} <= declared, key
        (latest,) = node["assetMaterializations"]
        entries = {e["label"]: e for e in latest["metadataEntries"]}
        assert entries["dagster/row_count"]["__typename"] == "IntMetadataEntry", key
        # The count is the table's, every domain together.
        table = entries["dagster/table_name"]["text"].removeprefix("warehouse.main.")
        assert entries["dagster/row_count"]["intValue"] == sample_store.count(table), key

    release = by_key[("release",)]
    assert "releases/<version>/" in release["description"]
    (latest,) = release["assetMaterializations"]
    types = {e["label"]: e["__typename"] for e in latest["metadataEntries"]}
    assert types["summary"] == "TableMetadataEntry"
    assert types["dagster/row_count"] == "IntMetadataEntry"
