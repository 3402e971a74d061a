import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "llm_support"))

from fake_openai import FakeOpenAIServer  # noqa: E402


@pytest.fixture
def fake_server():
    with FakeOpenAIServer() as server:
        yield server
