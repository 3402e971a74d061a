import importlib.util
from pathlib import Path

import pytest


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


raw_fixture = _load("recrm_raw_fixture", Path(__file__).parents[2] / "staging" / "raw_fixture.py")
generated = _load("recrm_generated_warehouse", Path(__file__).parents[2] / "generated_warehouse.py")


@pytest.fixture(scope="module")
def staged_warehouse(tmp_path_factory):
    return raw_fixture.build_staged_warehouse(tmp_path_factory.mktemp("raw") / "wh.duckdb")


@pytest.fixture(scope="session")
def generated_warehouse(tmp_path_factory):
    """(warehouse, logs root) of a generated drop with another seed than sample_logs."""
    return generated.build_generated_warehouse(tmp_path_factory.mktemp("generated"), seed=31)
