#!/usr/bin/env bash
# Live updates and dashboards, measured: (1) ingest with 0 and with 200 open
# event streams (watching another experiment, then the one being written),
# side by side in one run; (2) the lag from a log-batch's acknowledgement to
# its point being in a browser chart's trace (headless Chromium,
# bench/live_lag.mjs); (3) the time to open a dashboard of 12 panels over
# 200 runs (bench/dashboard_open.mjs).
# Usage: bench/live.sh [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
repo=$PWD

scripts/setup.sh --test
scripts/build.sh --release
cargo build --release -p bench

work=$(mktemp -d)
pid=
cleanup() {
  [[ -n "$pid" ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"

start() {
  mkdir -p "$work/$1"
  (cd "$work/$1" && exec "$repo/target/release/mltrack" ui --port "$port" >log 2>&1) &
  pid=$!
  for _ in $(seq 600); do curl -fs -o /dev/null "$url/health" && break; sleep 0.1; done
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=; }

quick=()
[[ "${1:-}" == "--quick" ]] && quick=(--quick)
sync
start none;  target/release/mltrack-bench "${quick[@]}" --out "$work/none.json" "no-subscribers=$url@$pid"; stop
start other; target/release/mltrack-bench "${quick[@]}" --subscribers 200 --out "$work/other.json" "200-elsewhere=$url@$pid"; stop
start same;  target/release/mltrack-bench "${quick[@]}" --subscribers 200 --subscribe-to same --out "$work/same.json" "200-watching=$url@$pid"; stop

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%FT%TZ)"
target/release/mltrack-bench --report "$work/none.json" "$work/other.json" "$work/same.json"

start lag
node bench/live_lag.mjs "$url"
stop
start dashboard
node bench/dashboard_open.mjs "$url"
stop
