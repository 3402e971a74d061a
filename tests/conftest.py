"""Fixtures shared by the test folders: what the warehouse file went through."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from core.warehouse import Warehouse


@pytest.fixture
def warehouse_opens(monkeypatch) -> list[bool]:
    """Filled as the test runs: one entry (its read_only flag) each time a DuckDB instance is
    started on a warehouse file."""
    opened: list[bool] = []
    real_open = Warehouse._open

    def counting_open(self, read_only):
        opened.append(read_only)
        return real_open(self, read_only)

    monkeypatch.setattr(Warehouse, "_open", counting_open)
    return opened


@pytest.fixture
def assert_file_released() -> Callable[[Path], None]:
    """Asserts that another process can open the DuckDB file read-write: nothing in this one
    holds it any more."""

    def check(path: Path) -> None:
        done = subprocess.run(
            [sys.executable, "-c", f"import duckdb; duckdb.connect({str(path)!r}).close()"],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr

    return check
