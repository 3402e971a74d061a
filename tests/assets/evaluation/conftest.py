"""Fixtures of the evaluation tests (helpers: eval_support.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "llm_support"))

from eval_support import publish_fixture_release  # noqa: E402
from fake_openai import FakeOpenAIServer  # noqa: E402


@pytest.fixture(scope="session")
def eval_release(tmp_path_factory) -> Path:
    """A valid release (do not modify it: copy it first)."""
    return publish_fixture_release(tmp_path_factory.mktemp("eval_release"))


@pytest.fixture
def fake_server():
    with FakeOpenAIServer() as server:
        yield server
