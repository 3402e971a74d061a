"""The code location's shape is checked in: every asset key, group, upstream key, partitioning,
table and kind, and every check with its asset and blocking flag
(`tests/pipelines/definitions_snapshot.json`). A refactor that changes one of them fails here with
a diff; an intended change refreshes the file (`python -m pipelines.snapshot`, see its docstring)."""

from __future__ import annotations

import difflib
import json
from pathlib import Path

from dagster import AssetKey, Definitions, asset

from pipelines.definitions import defs
from pipelines.snapshot import definitions_snapshot, snapshot_json

SNAPSHOT = Path(__file__).with_name("definitions_snapshot.json")
REFRESH = ".venv/bin/python -m pipelines.snapshot > tests/pipelines/definitions_snapshot.json"


def _diff(expected: str, actual: str) -> str:
    return "".join(
        difflib.unified_diff(
            expected.splitlines(keepends=True),
            actual.splitlines(keepends=True),
            fromfile=str(SNAPSHOT),
            tofile="pipelines.definitions.defs",
            n=2,
        )
    )


def test_definitions_match_the_checked_in_snapshot():
    expected = SNAPSHOT.read_text(encoding="utf-8")
    actual = snapshot_json(defs)
    diff = _diff(expected, actual)
    assert not diff, (
        "the code location's assets, groups, dependencies or checks changed; if intended, "
        f"refresh the snapshot with `{REFRESH}` and review the diff:\n{diff}"
    )


def test_snapshot_records_every_asset_dependency_and_blocking_check():
    snapshot = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assets, checks = snapshot["assets"], snapshot["checks"]
    builtins = ("behavior_prediction", "factual_consistency", "instruction_following",
                "item_ranking", "query_item_relevance")  # fmt: skip
    # The release reads every benchmark table and what its manifest records: the ingested files
    # and domain settings, the requests (split cuts), the entries left out and the LLM usage.
    release_deps = set(assets["release"]["deps"])
    assert {f"{d}/benchmark" for d in builtins} <= release_deps
    assert {"ingest/domain_settings", "ingest/requests", "ingest/users"} <= release_deps
    assert {f"{d}/judged" for d in builtins} <= release_deps  # entries_left_out, llm_usage
    assert assets["evaluation/result"]["deps"] == ["evaluation/scorer"]
    assert assets["ingest/users"]["group"] == "ingest"
    assert assets["ingest/users"]["partitions"] == "domain"
    assert checks["release:validity"] == {"asset": "release", "name": "validity", "blocking": True}
    assert checks["ingest/events:contract"]["blocking"] is False


def test_a_changed_dependency_shows_as_a_diff():
    """The comparison is not blind: one extra upstream key on one asset is a diff naming it."""

    @asset(key=AssetKey(["staging", "item_profiles"]), group_name="staging")
    def upstream() -> None: ...

    @asset(key=AssetKey(["item_ranking", "entries"]), group_name="item_ranking", deps=[upstream])
    def entries() -> None: ...

    one = definitions_snapshot(Definitions(assets=[upstream, entries]))

    @asset(
        key=AssetKey(["item_ranking", "entries"]),
        group_name="item_ranking",
        deps=[upstream, AssetKey(["ingest", "users"])],
    )
    def entries_more() -> None: ...

    two = definitions_snapshot(Definitions(assets=[upstream, entries_more]))
    diff = _diff(json.dumps(one, indent=2), json.dumps(two, indent=2))
    assert '+        "ingest/users"' in diff
    assert "ingest/users" in two["assets"]  # an undefined upstream shows as an external asset
