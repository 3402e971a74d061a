import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "recrm_raw_fixture", Path(__file__).with_name("raw_fixture.py")
)
raw_fixture = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(raw_fixture)


@pytest.fixture(scope="module")
def stage_domain():
    return raw_fixture.stage_domain


@pytest.fixture(scope="module")
def raw_warehouse(tmp_path_factory):
    return raw_fixture.build_raw_warehouse(tmp_path_factory.mktemp("raw") / "wh.duckdb")


@pytest.fixture(scope="module", name="raw_fixture")
def raw_fixture_module():
    """The fixture-building module itself (tests that build their own warehouse)."""
    return raw_fixture
