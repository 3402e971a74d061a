"""The layers hold: `lint-imports` checks the contracts of `[tool.importlinter]` in
pyproject.toml (the code location on top and nothing importing it; assets; the log generator and
importers; core and schemas at the bottom; no import cycles, none ignored), and
it fails on an upward import or a new cycle, proven on a copy of the packages with one planted."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("pipelines", "assets", "loggen", "importers", "core", "schemas")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_no_import_is_exempt_from_the_contracts():
    """Every cycle was removed by moving code to its layer: nothing is ignored, so any cycle or
    upward import fails."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    for contract in config["tool"]["importlinter"]["contracts"]:
        assert not contract.get("ignore_imports"), contract["id"]


def test_a_cycle_between_two_asset_folders_is_refused(package_copy: Path):
    # One of the cycles removed: the validity gate (checks) importing the evaluation, which
    # reads releases, which the release layer validates with the gate.
    gate = package_copy / "assets" / "checks" / "validity" / "gate.py"
    gate.write_text(gate.read_text() + "\n\nfrom assets.evaluation.run import evaluate  # noqa\n")
    result = _lint(package_copy)
    assert result.returncode != 0
    assert "No cycles are allowed in assets" in result.stdout


def test_the_import_contracts_hold():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    """The six packages' Python files and the contracts, in a folder of their own."""
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package,
            tmp_path / package,
            ignore=lambda _dir, names: [
                n for n in names if not (n.endswith(".py") or (Path(_dir) / n).is_dir())
            ],
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_copy_passes_before_anything_is_planted(package_copy: Path):
    assert _lint(package_copy).returncode == 0


def test_an_asset_importing_the_code_location_breaks_the_layers(package_copy: Path):
    # Function-level, as the old upward imports were: they count too.
    (package_copy / "assets" / "planted.py").write_text(
        "def settings():\n    from pipelines.resources import default_resources\n\n"
        "    return default_resources()\n"
    )
    result = _lint(package_copy)
    assert result.returncode != 0
    assert "pipelines > assets > loggen | importers > core : schemas BROKEN" in result.stdout
    assert "assets.planted -> pipelines.resources" in result.stdout


def test_core_importing_an_asset_module_breaks_the_layers(package_copy: Path):
    (package_copy / "core" / "planted.py").write_text("from assets.partitions import DOMAINS\n")
    result = _lint(package_copy)
    assert result.returncode != 0
    assert "core.planted -> assets.partitions" in result.stdout


def test_a_new_import_cycle_in_the_code_location_is_refused(package_copy: Path):
    # The circle this layering removed: the runner loading the definitions, which load the
    # sensors, which import the runner.
    runner = package_copy / "pipelines" / "runner.py"
    runner.write_text(
        runner.read_text()
        + "\n\ndef _planted():\n    from pipelines.definitions import defs\n\n    return defs\n"
    )
    result = _lint(package_copy)
    assert result.returncode != 0
    assert "no import cycles between sibling modules of a package BROKEN" in result.stdout
    assert "No cycles are allowed in pipelines" in result.stdout
