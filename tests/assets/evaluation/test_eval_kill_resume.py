"""An evaluation killed part-way (a real `recrm eval` process, SIGKILL) resumes with only the
missing calls: counted at the server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from eval_support import ScriptedJudge, release_frame

from pipelines.cli import main

pytestmark = pytest.mark.slow
REPO = os.path.dirname(os.path.abspath(__file__)).rsplit("/tests/", 1)[0]


def test_a_killed_evaluation_resumes_with_only_the_missing_calls(
    eval_release, fake_server, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    fake_server.latency = 0.3
    fake_server.responder = ScriptedJudge(eval_release)
    total = release_frame(eval_release).height  # 50 entries, one call each
    out = tmp_path / "results"
    args = [
        "eval", str(eval_release), "--name", "killed", "--judge", "--base-url",
        fake_server.base_url, "--model", "scripted", "--concurrency", "2", "--out", str(out),
        "--resamples", "20",
    ]  # fmt: skip
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pipelines.cli import main; sys.exit(main())",
            *args,
        ],
        cwd=tmp_path,
        env=os.environ | {"PYTHONPATH": REPO},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while fake_server.requests < total // 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    asked_before = {b["messages"][0]["content"] for b in fake_server.bodies}
    assert total // 2 <= len(asked_before) < total, "the child finished before it was killed"
    assert not (out / eval_release.name).exists()  # no result from a killed run

    fake_server.reset_counts()
    fake_server.latency = 0.0
    assert main(args) == 0
    asked_again = {b["messages"][0]["content"] for b in fake_server.bodies}
    summary = json.loads((out / eval_release.name / "killed" / "summary.json").read_text())
    usage = summary["llm_usage"]
    # Every entry was answered once in all; the rerun asked only what the cache did not hold:
    # at most the calls in flight at the kill (2) and those answered in the last 0.25 s before
    # it (the cache writer's flush interval) are asked twice.
    assert usage["calls"] == fake_server.requests == len(asked_again)
    assert usage["cached_calls"] + usage["calls"] == total
    assert usage["cached_calls"] >= len(asked_before) - 4
    assert asked_before | asked_again == set(release_frame(eval_release)["prompt"])
    assert len(asked_before & asked_again) <= 4
    for figures in summary["dimensions"].values():
        assert figures["invalid_rate"] == 0.0
