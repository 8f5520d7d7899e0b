#!/usr/bin/env bash
# The scale benchmark: fills one mltrack on SQLite and one on PostgreSQL
# (a private cluster, fsync on) with RUNS x METRICS x STEPS metric points
# (default 1,000 runs x 10 metrics x 1,000 steps = 10 million) through the
# REST API, then times search-runs, a whole metric history and the chart
# view's sampled read of 100 runs on that history, and prints each
# database's size. The figures are in docs/scaling.md.
# Usage: bench/scale.sh [RUNS METRICS STEPS]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
runs=${1:-1000} metrics=${2:-10} steps=${3:-1000}
repo=$PWD

scripts/setup.sh --test
scripts/build.sh --release
cargo build --release -p bench

work=$(mktemp -d /tmp/mltrack-scale.XXXXXX)
chmod 755 "$work"
pid=
cleanup() {
  [[ -n "$pid" ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  tests/pg-cluster.sh stop "$work/pg"
  rm -rf "$work"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
pg=$(PG_FSYNC=on tests/pg-cluster.sh start "$work/pg")
pg_port=${pg##*:}
psql -q -h 127.0.0.1 -p "$pg_port" -U postgres -c "CREATE DATABASE scale"

# fill NAME ARGS…: start mltrack in its own directory, fill and time it, stop it.
fill() {
  local name=$1; shift
  mkdir -p "$work/$name"
  (cd "$work/$name" && exec "$repo/target/release/mltrack" ui --port "$port" "$@" >log 2>&1) &
  pid=$!
  for _ in $(seq 600); do curl -fs -o /dev/null "$url/health" && break; sleep 0.1; done
  target/release/mltrack-bench --scale "$runs" "$metrics" "$steps" "$name=$url@$pid"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  pid=
}

sync
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%FT%TZ)"
fill sqlite
echo "sqlite: database $(du -cb "$work"/sqlite/mltrack.db* | tail -1 | cut -f1 | numfmt --to=si)B"
fill postgres --backend-store-uri "$pg/scale"
size=$(psql -h 127.0.0.1 -p "$pg_port" -U postgres -Atc "SELECT pg_database_size('scale')")
echo "postgres: database $(numfmt --to=si "$size")B"
psql -h 127.0.0.1 -p "$pg_port" -U postgres -d scale -Atc \
  "SELECT relname || ' ' || pg_size_pretty(pg_total_relation_size(oid)) FROM pg_class
   WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace ORDER BY pg_total_relation_size(oid) DESC LIMIT 4"
