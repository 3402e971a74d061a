"""recrm-repurchase, installed as a contributor's package would be, in a separate environment.

The package is built and installed with pip (`--target` a fresh folder: its dist-info carries the
`recrm.dimensions` entry point), and every command runs in a subprocess whose Python path adds
that folder, so the project's own environment never sees the dimension. Nothing in the project
is edited: the dimension must appear in the Dagster definitions, the checks, the release, the
card, the manifest and the evaluation from its declaration alone.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

PACKAGE = Path(__file__).resolve().parents[1]
PROJECT = PACKAGE.parents[1]
NAME = "repurchase_prediction"
HORIZON_DAYS = 3


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict[str, str]:
    """The environment of a Python whose path holds the pip-installed package."""
    root = tmp_path_factory.mktemp("repurchase_env")
    source = root / "src"
    shutil.copytree(PACKAGE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "tests"))
    site = root / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(source)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    assert list(site.glob("recrm_repurchase-*.dist-info"))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(PROJECT)])
    env.setdefault("RECRM_HASH_KEY", "repurchase-test-key")
    return env


def _python(env: dict, code: str, cwd: Path = PROJECT) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def _recrm(env: dict, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    code = "import sys; from pipelines.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, *args], env=env, cwd=cwd, capture_output=True, text=True
    )


def test_the_project_environment_does_not_have_it():
    from schemas.entries import DIMENSIONS

    assert NAME not in DIMENSIONS  # the other tests' environment is untouched


def test_installed_it_is_registered_and_in_the_dagster_definitions(installed):
    out = _python(
        installed,
        """
import json
from schemas.dimensions import get_dimension
from schemas.entries import DIMENSIONS
from pipelines.definitions import defs
from pipelines.jobs import DOMAIN_LAYERS
from assets.checks.validity.gate import RESPONSE_DIMENSIONS
from assets.llm.judges import judge_of
from assets.scoring.baselines import BASELINES
graph = defs.get_repository_def().asset_graph
keys = [k for k in graph.get_all_asset_keys() if k.path[0] == "repurchase_prediction"]
print(json.dumps({
    "dimensions": DIMENSIONS,
    "keys": sorted(k.to_user_string() for k in keys),
    "groups": sorted({graph.get(k).group_name for k in keys}),
    "checks": sorted(c.name for c in graph.asset_check_keys if c.asset_key in keys),
    "built_in_checks": sorted(
        c.name for c in graph.asset_check_keys if c.asset_key.path == ["behavior_prediction", "benchmark"]
    ),
    "in_build_job": sorted(
        k.to_user_string() for k in DOMAIN_LAYERS.resolve(graph) if k in keys
    ),
    "source": get_dimension("repurchase_prediction").source,
    "judge": repr(judge_of("repurchase_prediction")),
    "length_baseline": "repurchase_prediction" in BASELINES["length"].dimensions,
    "popularity_baseline": "repurchase_prediction" in BASELINES["popularity"].dimensions,
    "response_shortcuts": "repurchase_prediction" in RESPONSE_DIMENSIONS,
}))
""",
    )
    found = json.loads(out.strip().splitlines()[-1])
    assert found["dimensions"][-1] == NAME and len(found["dimensions"]) == 6
    assert found["keys"] == [f"{NAME}/benchmark", f"{NAME}/entries", f"{NAME}/judged"]
    assert found["groups"] == ["benchmark", NAME]
    # on its benchmark table, the same checks as a built-in dimension's
    assert "expectations" in found["checks"] and found["checks"] == found["built_in_checks"]
    assert found["in_build_job"] == [f"{NAME}/entries", f"{NAME}/judged"]
    assert found["source"].startswith("entry point repurchase_prediction = recrm_repurchase")
    # Judge and shortcut baselines read its declaration: no LLM judge applies (declared None),
    # the length baseline measures its candidate, the response shortcuts do not apply.
    assert found["judge"] == "None"
    assert found["length_baseline"] is True and found["response_shortcuts"] is False
    assert found["popularity_baseline"] is True  # it labels one candidate item


@pytest.mark.slow
def test_it_is_built_checked_released_and_scored(installed, tmp_path):
    env = dict(installed, DAGSTER_HOME=str(tmp_path / "dagster"))
    (tmp_path / "dagster").mkdir()
    warehouse, releases = tmp_path / "wh.duckdb", tmp_path / "releases"
    built = _recrm(
        env,
        "build",
        "--logs", str(PROJECT / "sample_logs"),
        "--warehouse", str(warehouse),
        "--out", str(releases),
        "--dimensions", NAME,
        "--json",
        cwd=tmp_path,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-4000:]
    (release,) = [p for p in releases.iterdir() if not p.name.startswith(".")]

    # The manifest: the dimension's shards, label distribution, its template and its sha256.
    manifest = json.loads((release / "manifest.json").read_text())
    info = manifest["dimensions"][NAME]
    assert info["label_column"] == "label" and info["rows"] > 100
    labels: dict[str, int] = {}
    for split in info["splits"].values():
        for k, v in split["label_distribution"].items():
            labels[k] = labels.get(k, 0) + v
    assert set(labels) == {"0", "1"}
    share = labels["1"] / info["rows"]
    assert 0.01 <= share <= 0.6  # the dimension's own balance bounds, which the check enforced
    assert info["splits"]["test"]["rows"] > 0 and info["splits"]["validation"]["rows"] > 0
    lock = json.loads((PACKAGE / "recrm_repurchase/templates/templates.lock.json").read_text())
    assert manifest["templates"] == {f"{NAME}.v1": lock[f"{NAME}.v1"]}

    # The card: its config, its description from the declaration, its label names.
    card = (release / "README.md").read_text()
    assert f"config_name: {NAME}" in card
    assert "does the user order this item again within the horizon" in card
    assert "0 = not_reordered, 1 = reordered" in card
    croissant = (release / "croissant.json").read_text()
    assert NAME in croissant

    # The checks ran on it (blocking: the build fails otherwise); `recrm validate` re-checks.
    validated = _recrm(env, "validate", str(release), cwd=tmp_path)
    assert validated.returncode == 0, validated.stdout[-3000:] + validated.stderr[-3000:]

    # Every label against the logs: 1 exactly when the user ordered the item again within the
    # horizon after the entry's first order.
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        mismatches = con.execute(
            f"""
            WITH e AS (
                SELECT provenance.user_id_hash AS u, candidate.item_id AS item, context.ts AS ts,
                       label, domain
                FROM read_parquet('{release / NAME}/*.parquet')
            ),
            orders AS (
                SELECT domain, user_id_hash AS u, item_id AS item, request_ts AS ts
                FROM stg_request_items WHERE engagement = 2
            )
            SELECT count(*) FILTER (WHERE label <> (
                       SELECT CAST(count(*) > 0 AS INTEGER) FROM orders o
                       WHERE o.domain = e.domain AND o.u = e.u AND o.item = e.item
                         AND o.ts > e.ts AND o.ts <= e.ts + INTERVAL {HORIZON_DAYS} DAY)),
                   count(*) FILTER (WHERE EXISTS (
                       SELECT 1 FROM orders o
                       WHERE o.domain = e.domain AND o.u = e.u AND o.item = e.item
                         AND o.ts < e.ts)),
                   count(*)
            FROM e
            """
        ).fetchone()
    finally:
        con.close()
    wrong, not_first, total = mismatches
    assert total == info["rows"] and wrong == 0 and not_first == 0

    # Scored: the majority baseline on its test split.
    results = tmp_path / "results"
    scored = _recrm(
        env, "eval", str(release), "--name", "majority", "--baseline", "majority",
        "--resamples", "50", "--out", str(results), cwd=tmp_path,
    )  # fmt: skip
    assert scored.returncode == 0, scored.stderr[-3000:]
    (summary_path,) = results.rglob("summary.json")
    summary = json.loads(summary_path.read_text())
    figures = summary["dimensions"][NAME]
    assert set(figures["metrics"]) == {"acc", "f1", "macro_f1", "auc"}
    # Majority says "not reordered" for all: ACC is the test share of 0, F1 of class 1 is 0.
    test = info["splits"]["test"]["label_distribution"]
    assert figures["metrics"]["acc"]["value"] == pytest.approx(
        test.get("0", 0) / sum(test.values())
    )
    assert figures["metrics"]["f1"]["value"] == 0.0

    # The length and popularity baselines score it too (from its declared shortcut text, the
    # candidate item).
    for baseline in ("length", "popularity"):
        scored = _recrm(
            env, "eval", str(release), "--name", baseline, "--baseline", baseline,
            "--resamples", "50", "--out", str(results), cwd=tmp_path,
        )  # fmt: skip
        assert scored.returncode == 0, scored.stderr[-3000:]
        (path,) = [p for p in results.rglob("summary.json") if p.parent.name == baseline]
        figures = json.loads(path.read_text())["dimensions"][NAME]
        assert figures["entries"] == sum(test.values())
        auc = figures["metrics"]["auc"]["value"]
        # AUC needs both classes in the test split (repurchase is rare: it may hold no 1)
        assert (0.0 <= auc <= 1.0) if len(test) == 2 else auc is None
