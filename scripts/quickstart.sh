#!/usr/bin/env bash
# Quick start: set up, then build a release from the shipped sample logs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/recrm build --logs sample_logs --out releases --allow-dev-key "$@"
