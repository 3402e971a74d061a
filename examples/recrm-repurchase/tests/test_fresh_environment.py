"""recrm-repurchase in a fresh environment: a new virtual environment (`python -m venv`, no system
site packages) into which pip installs the project and the package as a user would, from their
source folders (the same dependency versions as this environment, from pip's cache and the
configured package index). Every command then runs with that environment's Python from a folder
outside the project, so nothing is imported from the source tree: the dimension must appear in the
Dagster definitions and their checks, and a build of the sample logs must release it (manifest and
card), with no edit to the project.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1]
PROJECT = PACKAGE.parents[1]
NAME = "repurchase_prediction"
PROJECT_PACKAGES = ("pipelines", "assets", "schemas", "core", "loggen", "importers")
JUNK = shutil.ignore_patterns("__pycache__", "*.pyc", "build", "*.egg-info", "tests")

pytestmark = pytest.mark.slow


def _constraints(path: Path) -> Path:
    """This environment's versions (not the project itself), so the new one resolves the same."""
    frozen = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--exclude-editable"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    pins = [
        line for line in frozen.splitlines()
        if "==" in line and " @ " not in line and not line.startswith(("recrm", "-e"))
    ]  # fmt: skip
    path.write_text("\n".join(pins) + "\n", encoding="utf-8")
    return path


def _source_copy(root: Path) -> tuple[Path, Path]:
    """The project and the package as source folders of their own (pip builds in them)."""
    project = root / "recrm-pipeline"
    project.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(PROJECT / name, project / name)
    for package in PROJECT_PACKAGES:
        shutil.copytree(PROJECT / package, project / package, ignore=JUNK)
    package = root / "recrm-repurchase"
    shutil.copytree(PACKAGE, package, ignore=JUNK)
    return project, package


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("fresh_env")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    config = (venv / "pyvenv.cfg").read_text(encoding="utf-8")
    assert "include-system-site-packages = false" in config  # fresh: nothing inherited
    python = venv / "bin" / "python"
    project, package = _source_copy(root)
    constraints = _constraints(root / "c.txt")
    # --no-compile: byte-compiling every installed module is most of the install's CPU time;
    # the modules a command imports are compiled when it first imports them.
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-compile", "-c", str(constraints),
         str(project), str(package)],
        capture_output=True, text=True, timeout=1500,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr[-4000:]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("RECRM_HASH_KEY", "fresh-env-test-key")
    work = root / "work"  # not the project: `python -c` puts its folder first on sys.path
    (work / "dagster").mkdir(parents=True)
    env["DAGSTER_HOME"] = str(work / "dagster")
    return {"python": python, "venv": venv, "env": env, "work": work}


def _run(fresh: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*args], env=fresh["env"], cwd=fresh["work"], capture_output=True, text=True, timeout=1500
    )


def test_the_definitions_of_the_fresh_environment_show_the_dimension(fresh):
    out = _run(
        fresh,
        str(fresh["python"]),
        "-c",
        """
import json
import assets, recrm_repurchase
from pipelines.definitions import defs
from schemas.entries import DIMENSIONS
graph = defs.get_repository_def().asset_graph
keys = [k for k in graph.get_all_asset_keys() if k.path[0] == "repurchase_prediction"]
print(json.dumps({
    "files": [assets.__file__, recrm_repurchase.__file__],
    "dimensions": list(DIMENSIONS),
    "keys": sorted(k.to_user_string() for k in keys),
    "checks": sorted(c.name for c in graph.asset_check_keys if c.asset_key in keys),
    "built_in_checks": sorted(
        c.name for c in graph.asset_check_keys
        if c.asset_key.path == ["behavior_prediction", "benchmark"]
    ),
}))
""",
    )
    assert out.returncode == 0, out.stderr[-4000:]
    found = json.loads(out.stdout.strip().splitlines()[-1])
    # Both imported from the new environment's site-packages, not from a source folder.
    assert all(str(fresh["venv"]) in f and "site-packages" in f for f in found["files"])
    assert found["dimensions"][-1] == NAME and len(found["dimensions"]) == 6
    assert found["keys"] == [f"{NAME}/benchmark", f"{NAME}/entries", f"{NAME}/judged"]
    assert "expectations" in found["checks"] and found["checks"] == found["built_in_checks"]


def test_the_fresh_environment_builds_and_releases_it(fresh):
    work = fresh["work"]
    built = _run(
        fresh,
        str(fresh["venv"] / "bin" / "recrm"),
        "build",
        "--logs", str(PROJECT / "sample_logs"),
        "--warehouse", str(work / "wh.duckdb"),
        "--out", str(work / "releases"),
        "--dimensions", NAME,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (release,) = [p for p in (work / "releases").iterdir() if not p.name.startswith(".")]
    manifest = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
    assert list(manifest["dimensions"]) == [NAME] and manifest["dimensions"][NAME]["rows"] > 0
    assert f"{NAME}.v1" in manifest["templates"]
    card = (release / "README.md").read_text(encoding="utf-8")
    assert f"config_name: {NAME}" in card
    assert "does the user order this item again within the horizon" in card
    assert sorted(p.name for p in (release / NAME).glob("*.parquet"))
