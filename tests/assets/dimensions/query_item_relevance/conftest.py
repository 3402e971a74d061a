import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "recrm_raw_fixture", Path(__file__).parents[2] / "staging" / "raw_fixture.py"
)
raw_fixture = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(raw_fixture)


@pytest.fixture(scope="module")
def staged_warehouse(tmp_path_factory):
    return raw_fixture.build_staged_warehouse(tmp_path_factory.mktemp("raw") / "wh.duckdb")
