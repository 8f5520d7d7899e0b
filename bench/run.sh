#!/usr/bin/env bash
# Benchmarks mltrack against MLflow's own server (`mlflow server`, SQLite,
# mlflow==3.17.2 from PyPI) and FastTrackML (`fml server`, SQLite, PyPI
# package fasttrackml==0.6.0) on this machine, through the same REST calls by
# the same Rust client. Each server runs alone while it is measured (on two
# cores an idle neighbour still takes CPU), each in a fresh directory; the
# results are printed side by side with mltrack's ratios.
#
# With --postgres: mltrack and MLflow's server each on their own database of
# one private PostgreSQL cluster (fsync on), and mltrack on SQLite beside them.
#
# With --auth: mltrack with users and permissions on (a non-admin user
# sending HTTP Basic on every request, as the mlflow client does) beside
# mltrack without them: what authentication and grant checks cost.
#
# Every run also measures the last landed release (the commit named in
# bench/previous-release, built once by bench/previous.sh) beside this
# build, so that a slowdown shows in the next run's figures. --against
# REV|BIN measures another commit or mltrack binary instead; --against none
# leaves it out.
# With --rounds N, this build and the earlier one are measured N times,
# alternately, and reported by their medians (this machine's disk-bound
# figures vary by ±20% from one run to the next).
# Usage: bench/run.sh [--quick] [--postgres] [--auth] [--against REV|BIN|none] [--rounds N]
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
  local up=
  for _ in $(seq 600); do
    curl -fs -o /dev/null "$url/health" && up=1 && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if [[ -z "$up" ]]; then
    # An earlier release may not serve this configuration (98d1465 predates
    # the PostgreSQL backend): it is left out of the report.
    echo "$name did not start; left out: $(tail -n 2 "$work/$name/log")" >&2
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
    pid=
    return 1
  fi
  if [[ -n "${before_measure:-}" ]]; then eval "$before_measure"; fi
  target/release/mltrack-bench "${quick[@]}" --out "$work/$name${round:+.$round}.json" "$name=$url@$pid"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  pid=
}

sync   # let the build's writes reach the disk before anything fsyncs
quick=()
postgres=
auth=
against=
rounds=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) quick=(--quick) ;;
    --postgres) postgres=1 ;;
    --auth) auth=1 ;;
    --against) against=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    *) echo "usage: bench/run.sh [--quick] [--postgres] [--auth] [--against REV|BIN|none] [--rounds N]" >&2; exit 2 ;;
  esac
  shift
done

# The earlier build measured beside this one, and its name in the report.
previous=
if [[ "$against" != none && -z "$auth" ]]; then
  if [[ -n "$against" && -x "$against" ]]; then
    previous=$(realpath "$against")
    previous_name=mltrack-other
  else
    rev=${against:-$(cat bench/previous-release)}
    previous=$(bench/previous.sh "$rev")
    previous_name=mltrack-$(git rev-parse --short "$rev^{commit}")
  fi
fi

if [[ -n "$auth" ]]; then
  measure mltrack "$repo/target/release/mltrack" ui --port "$port"
  export MLTRACK_ADMIN_USERNAME=admin MLTRACK_ADMIN_PASSWORD=bench-admin-password
  # A user who is no admin: every request resolves their grants.
  before_measure='curl -fs -o /dev/null -u "admin:$MLTRACK_ADMIN_PASSWORD" -H "content-type: application/json" \
    -d "{\"username\": \"bench\", \"password\": \"bench-user-password\"}" "$url/api/2.0/mlflow/users/create"'
  export MLTRACK_BENCH_AUTH=bench:bench-user-password
  measure mltrack-auth "$repo/target/release/mltrack" ui --port "$port" --app-name basic-auth
  unset MLTRACK_BENCH_AUTH before_measure
  echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%FT%TZ)"
  target/release/mltrack-bench --report "$work/mltrack-auth.json" "$work/mltrack.json"
  exit 0
fi

if [[ -n "$postgres" ]]; then
  pg_dir=$(mktemp -d /tmp/mltrack-bench-pg.XXXXXX)
  trap 'cleanup; tests/pg-cluster.sh stop "$pg_dir"' EXIT
  pg=$(PG_FSYNC=on tests/pg-cluster.sh start "$pg_dir")
  pg_port=${pg##*:}
  for db in mltrack mlflow; do psql -q -h 127.0.0.1 -p "$pg_port" -U postgres -c "CREATE DATABASE $db"; done
  measure mltrack-pg "$repo/target/release/mltrack" ui --port "$port" --backend-store-uri "$pg/mltrack"
  # MLflow's SQLAlchemy URI with the psycopg (3) driver the venv has.
  measure mlflow-pg "$repo/.venv/bin/mlflow" server --host 127.0.0.1 --port "$port" \
    --backend-store-uri "postgresql+psycopg://postgres@127.0.0.1:$pg_port/mlflow"
  measure mltrack-sqlite "$repo/target/release/mltrack" ui --port "$port"
  reports=("$work/mltrack-pg.json" "$work/mlflow-pg.json" "$work/mltrack-sqlite.json")
  if [[ -n "$previous" ]]; then
    psql -q -h 127.0.0.1 -p "$pg_port" -U postgres -c "CREATE DATABASE previous"
    if measure "$previous_name-pg" "$previous" ui --port "$port" --backend-store-uri "$pg/previous"; then
      reports+=("$work/$previous_name-pg.json")
    fi
  fi
  echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%FT%TZ); PostgreSQL $(psql -h 127.0.0.1 -p "$pg_port" -U postgres -Atc 'SHOW server_version')"
  target/release/mltrack-bench --report "${reports[@]}"
  exit 0
fi

# rounds NAME: the files of NAME's rounds, as one report argument (a+b+…).
rounds_of() {
  local files=()
  for round in $(seq "$rounds"); do files+=("$work/$1.$round.json"); done
  (IFS=+; echo "${files[*]}")
}
for round in $(seq "$rounds"); do
  measure mltrack "$repo/target/release/mltrack" ui --port "$port"
  if [[ -n "$previous" ]]; then
    measure "$previous_name" "$previous" ui --port "$port"
  fi
done
unset round
reports=("$(rounds_of mltrack)")
[[ -n "$previous" ]] && reports+=("$(rounds_of "$previous_name")")
measure mlflow "$repo/.venv/bin/mlflow" server --backend-store-uri sqlite:///mlflow.db --host 127.0.0.1 --port "$port"
measure fasttrackml "$repo/.venv-bench/bin/fml" server --listen-address "127.0.0.1:$port" --database-uri sqlite://fml.db
reports+=("$work/mlflow.json" "$work/fasttrackml.json")

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%FT%TZ)"
target/release/mltrack-bench --report "${reports[@]}"
