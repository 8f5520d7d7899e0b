#!/usr/bin/env bash
# Starts mltrack (a release build) and MLflow's own server (mlflow==3.17.2
# from .venv, SQLite), each in a fresh folder, and times the same sweep's
# chart view in both UIs (bench/ui_side_by_side.mjs).
# Usage: bench/ui_side_by_side.sh [runs] [steps]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
[ -x target/release/mltrack ] || scripts/build.sh --release
work=$(mktemp -d)
free_port() { .venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
a=$(free_port); b=$(free_port)
mkdir -p "$work/mltrack" "$work/mlflow"
(cd "$work/mltrack" && exec "$repo/target/release/mltrack" ui --host 127.0.0.1 --port "$a" >server.log 2>&1) &
pids=$!
(cd "$work/mlflow" && exec "$repo/.venv/bin/mlflow" server --backend-store-uri sqlite:///mlflow.db --host 127.0.0.1 --port "$b" >server.log 2>&1) &
pids="$pids $!"
trap 'kill $pids 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
for url in "http://127.0.0.1:$a" "http://127.0.0.1:$b"; do
  for _ in $(seq 120); do curl -sf "$url/health" >/dev/null && break; sleep 0.5; done
done
node bench/ui_side_by_side.mjs "http://127.0.0.1:$a" "http://127.0.0.1:$b" "$@"
