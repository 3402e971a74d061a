"""A labeling run killed with SIGKILL part-way resumes without paying twice for what it saved."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from core.llm.cache import ResponseCache
from core.llm.client import LLMClient, LLMRequest
from core.llm.config import LLMConfig
from core.warehouse import Warehouse

pytestmark = pytest.mark.slow

N = 200

CHILD = textwrap.dedent(
    """
    import sys
    from core.llm.cache import ResponseCache
    from core.llm.client import LLMClient, LLMRequest
    from core.llm.config import LLMConfig
    from core.warehouse import Warehouse

    url, path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    client = LLMClient(LLMConfig(base_url=url, model="fake", concurrency=4),
                       ResponseCache(Warehouse(path)))
    client.run([LLMRequest.chat(None, f"q {i}", "kill.v1:x") for i in range(n)])
    """
)


def test_a_killed_run_resumes_with_only_the_missing_calls(fake_server, tmp_path):
    fake_server.latency = 0.05
    path = tmp_path / "wh.duckdb"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, fake_server.base_url, str(path), str(N)],
        cwd=os.getcwd(),
    )
    deadline = time.monotonic() + 60
    while fake_server.requests < N // 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.8)  # the cache writer has written at least one batch by now
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    asked_before = fake_server.requests
    assert N // 2 <= asked_before < N, "the child finished before it could be killed"

    client = LLMClient(
        LLMConfig(base_url=fake_server.base_url, model="fake", concurrency=4),
        ResponseCache(Warehouse(path)),
    )
    requests = [LLMRequest.chat(None, f"q {i}", "kill.v1:x") for i in range(N)]
    saved = len(client.cache.lookup([client.key_for(r) for r in requests]))
    # What the server answered was saved, except the last fraction of a second before the kill.
    assert 0 < saved <= asked_before
    fake_server.reset_counts()
    results, usage = client.run(requests)
    assert all(r.answered for r in results)
    assert fake_server.requests == usage.calls == N - saved
    assert usage.cached_calls == saved
