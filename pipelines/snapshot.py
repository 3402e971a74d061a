"""A snapshot of the code location's shape: every asset key with its group, upstream keys,
partitioning, table and kinds, and every asset check with its asset and whether it blocks.

`tests/pipelines/test_definitions_snapshot.py` compares it with the checked-in
`tests/pipelines/definitions_snapshot.json`, so a changed key, group, dependency or check shows up
as a readable diff. After an intended change, refresh the file with

    .venv/bin/python -m pipelines.snapshot > tests/pipelines/definitions_snapshot.json

and review the diff like code (asset keys are run history: keep them).
"""

from __future__ import annotations

import json
import sys

from dagster import Definitions

TABLE_NAME = "dagster/table_name"


def _user(key) -> str:
    return key.to_user_string()


def definitions_snapshot(defs: Definitions) -> dict:
    """The shape of `defs` as plain JSON values, sorted so that equal shapes are equal dicts."""
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=_user):
        node = graph.get(key)
        partitions = node.partitions_def
        table = node.metadata.get(TABLE_NAME)
        assets[_user(key)] = {
            "group": node.group_name,
            "deps": sorted(_user(k) for k in node.parent_keys),
            "partitions": getattr(partitions, "name", None) if partitions else None,
            "table": getattr(table, "value", table),
            "kinds": sorted(node.kinds),
            "observable_source": node.is_observable,
        }
    checks = {}
    for check_key in sorted(graph.asset_check_keys, key=lambda k: _user(k.asset_key) + k.name):
        spec = graph.get_check_spec(check_key)
        checks[f"{_user(check_key.asset_key)}:{check_key.name}"] = {
            "asset": _user(check_key.asset_key),
            "name": check_key.name,
            "blocking": bool(spec.blocking),
        }
    return {"assets": assets, "checks": checks}


def snapshot_json(defs: Definitions) -> str:
    return json.dumps(definitions_snapshot(defs), indent=2, sort_keys=True) + "\n"


def main() -> None:
    from pipelines.definitions import defs

    sys.stdout.write(snapshot_json(defs))


if __name__ == "__main__":
    main()
