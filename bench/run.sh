#!/usr/bin/env bash
# Benchmarks mltrack against MLflow's own server (`mlflow server`, SQLite,
# mlflow==3.17.2 from PyPI) and FastTrackML (`fml server`, SQLite, PyPI
# package fasttrackml==0.6.0) on this machine, through the same REST calls by
# the same Rust client. Each server runs alone while it is measured (on two
# cores an idle neighbour still takes CPU), each in a fresh directory; the
# results are printed side by side with mltrack's ratios.
# Usage: bench/run.sh [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
repo=$PWD

scripts/setup.sh --test     # .venv with mlflow (its server too)
if [[ ! -x .venv-bench/bin/fml ]]; then
  python3 -m venv .venv-bench
  .venv-bench/bin/pip install -q --disable-pip-version-check fasttrackml==0.6.0
fi
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

# measure NAME COMMAND…: start the server in its own directory, benchmark it, stop it.
measure() {
  local name=$1; shift
  mkdir -p "$work/$name"
  (cd "$work/$name" && exec "$@" >log 2>&1) &
  pid=$!
  for _ in $(seq 600); do
    curl -fs -o /dev/null "$url/api/2.0/mlflow/experiments/get?experiment_id=0" && break
    sleep 0.1
  done
  target/release/mltrack-bench "${quick[@]}" --out "$work/$name.json" "$name=$url@$pid"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  pid=
}

sync   # let the build's writes reach the disk before anything fsyncs
quick=()
[[ "${1:-}" == "--quick" ]] && quick=(--quick)
measure mltrack "$repo/target/release/mltrack" ui --port "$port"
measure mlflow "$repo/.venv/bin/mlflow" server --backend-store-uri sqlite:///mlflow.db --host 127.0.0.1 --port "$port"
measure fasttrackml "$repo/.venv-bench/bin/fml" server --listen-address "127.0.0.1:$port" --database-uri sqlite://fml.db

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%FT%TZ)"
target/release/mltrack-bench --report "$work/mltrack.json" "$work/mlflow.json" "$work/fasttrackml.json"
