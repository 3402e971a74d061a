import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "recrm_raw_fixture", Path(__file__).parents[1] / "staging" / "raw_fixture.py"
)
raw_fixture = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(raw_fixture)


@pytest.fixture
def raw_warehouse_path(tmp_path):
    path = tmp_path / "wh.duckdb"
    raw_fixture.build_raw_warehouse(path)
    return path
