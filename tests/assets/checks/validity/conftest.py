import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "recrm_benchmark_fixture_validity",
    Path(__file__).parents[2] / "release" / "benchmark_fixture.py",
)
benchmark_fixture = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(benchmark_fixture)


@pytest.fixture
def fixture_module():
    return benchmark_fixture
