import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "llm_support"))

import llama_server  # noqa: E402
from fake_openai import FakeOpenAIServer  # noqa: E402


@pytest.fixture
def fake_server():
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture(scope="session")
def llama_url():
    reason = llama_server.unavailable_reason()
    if reason:
        pytest.skip(reason)
    yield llama_server.start()
    llama_server.stop()
