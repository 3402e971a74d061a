#!/usr/bin/env bash
# Set up with the test extras, lint, and run the whole test suite (CI runs exactly this).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/lint-imports --no-cache  # the layers contract in pyproject.toml
.venv/bin/pytest "$@"
