#!/usr/bin/env bash
# Browser tests: start a fresh mltrack in a temporary directory, fill it
# through the mlflow client, run end2end/e2e.mjs in headless Chromium, stop it.
# Usage: end2end/run.sh [path/to/mltrack]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-target/debug/mltrack}")
work=$(mktemp -d)
port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
(cd "$work" && exec "$bin" ui --port "$port" >"$work/server.log" 2>&1) &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/health" >/dev/null && break
  sleep 0.1
done
# The client prints run links on stdout too; the ids are the last line.
ids=$(.venv/bin/python end2end/populate.py "http://127.0.0.1:$port" 2>"$work/populate.log" | tail -n 1)
MLTRACK_BIN="$bin" node end2end/e2e.mjs "http://127.0.0.1:$port" "$ids"
