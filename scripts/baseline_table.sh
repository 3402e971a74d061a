#!/usr/bin/env bash
# Score every built-in baseline on a release and print its leaderboard (the README's table).
# Usage: scripts/baseline_table.sh releases/<version> [results folder, default results]
set -euo pipefail
cd "$(dirname "$0")/.."
release="${1:?usage: scripts/baseline_table.sh releases/<version> [results]}"
out="${2:-results}"
for baseline in majority random length listing_order popularity lexical response_ngram marker; do
  .venv/bin/recrm eval "$release" --name "$baseline" --baseline "$baseline" --out "$out" >/dev/null
done
.venv/bin/recrm leaderboard "$out/$(basename "$release")"
