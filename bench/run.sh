#!/usr/bin/env bash
# Benchmarks mltrack against MLflow's own server (`mlflow server`, SQLite,
# mlflow==3.17.2 from PyPI) and FastTrackML (`fml server`, SQLite, from the
# PyPI package fasttrackml), started side by side on this machine, through
# the same REST calls by the same Rust client. Prints each server's figures
# and mltrack's ratios. Usage: bench/run.sh [--quick]
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
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { .venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_up() {
  for _ in $(seq 600); do
    curl -fs -o /dev/null "$1/api/2.0/mlflow/experiments/get?experiment_id=0" && return 0
    sleep 0.1
  done
  echo "server at $1 did not start" >&2
  return 1
}

mkdir -p "$work"/{mltrack,mlflow,fml}
p1=$(free_port); p2=$(free_port); p3=$(free_port)
(cd "$work/mltrack" && exec "$repo/target/release/mltrack" ui --port "$p1" >log 2>&1) & pids+=($!); m_pid=$!
(cd "$work/mlflow" && exec "$repo/.venv/bin/mlflow" server --backend-store-uri sqlite:///mlflow.db \
   --host 127.0.0.1 --port "$p2" >log 2>&1) & pids+=($!); f_pid=$!
(cd "$work/fml" && exec "$repo/.venv-bench/bin/fml" server --listen-address "127.0.0.1:$p3" \
   --database-uri sqlite://fml.db >log 2>&1) & pids+=($!); t_pid=$!
wait_up "http://127.0.0.1:$p1"; wait_up "http://127.0.0.1:$p2"; wait_up "http://127.0.0.1:$p3"

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%FT%TZ)"
target/release/mltrack-bench "$@" \
  "mltrack=http://127.0.0.1:$p1@$m_pid" \
  "mlflow=http://127.0.0.1:$p2@$f_pid" \
  "fasttrackml=http://127.0.0.1:$p3@$t_pid"
