#!/usr/bin/env bash
# Copies one MLflow server's data into a fresh mltrack three ways and times
# each on this machine, side by side:
#   mltrack import --from http://…        (through the MLflow server's REST API)
#   mltrack import --from sqlite:///…     (straight from MLflow's database)
#   mlflow-export-import 1.2.0 (PyPI): export-all from the MLflow server,
#   then import-all into a running mltrack (the tool MLflow users copy with)
# Every copy is then counted through the mlflow client.
# Usage: bench/import.sh [EXPERIMENTS RUNS METRICS STEPS]   (default 2 10 5 2000)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
repo=$PWD
shape=("${1:-2}" "${2:-10}" "${3:-5}" "${4:-2000}")

scripts/setup.sh --test
if [[ ! -x .venv-export/bin/import-all ]] || ! .venv-export/bin/python -c "import tabulate" 2>/dev/null; then
  python3 -m venv .venv-export
  # mlflow-export-import imports tabulate without declaring it.
  .venv-export/bin/pip install -q --disable-pip-version-check mlflow==3.17.2 mlflow-export-import==1.2.0 tabulate==0.9.0
fi
scripts/build.sh --release

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { .venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 600); do curl -fs -o /dev/null "$1/health" && return; sleep 0.2; done; echo "$1 did not start"; exit 1; }
seconds() { local t0=$1; .venv/bin/python -c "import time; print(f'{time.time() - $t0:.1f}')"; }
now() { .venv/bin/python -c 'import time; print(time.time())'; }

src_port=$(free_port); src="http://127.0.0.1:$src_port"
mkdir -p "$work/source"
(cd "$work/source" && exec "$repo/.venv/bin/mlflow" server --host 127.0.0.1 --port "$src_port" \
  --backend-store-uri sqlite:///mlflow.db --artifacts-destination ./mlartifacts --workers 1 >log 2>&1) &
pids+=($!)
wait_up "$src"
echo "source: $(.venv/bin/python bench/import_source.py "$src" "${shape[@]}")"

declare -A took
# 1. mltrack import through the REST API.
mkdir -p "$work/rest"
t0=$(now)
(cd "$work/rest" && "$repo/target/release/mltrack" import --from "$src" -q >import.log)
took[rest]=$(seconds "$t0")

# 2. mltrack import from MLflow's SQLite database (the server keeps running).
mkdir -p "$work/sql"
t0=$(now)
(cd "$work/sql" && "$repo/target/release/mltrack" import --from "sqlite:///$work/source/mlflow.db" \
  --source-artifacts "$work/source/mlartifacts" -q >import.log)
took[sql]=$(seconds "$t0")

# 3. mlflow-export-import: export-all, then import-all into a running mltrack.
mkdir -p "$work/mei"
mei_port=$(free_port); mei="http://127.0.0.1:$mei_port"
(cd "$work/mei" && exec "$repo/target/release/mltrack" ui --port "$mei_port" >log 2>&1) &
pids+=($!)
wait_up "$mei"
t0=$(now)
MLFLOW_TRACKING_URI="$src" .venv-export/bin/export-all --output-dir "$work/mei/export" >"$work/mei/export.log" 2>&1
took[mei_export]=$(seconds "$t0")
t1=$(now)
MLFLOW_TRACKING_URI="$mei" .venv-export/bin/import-all --input-dir "$work/mei/export" >"$work/mei/import.log" 2>&1
took[mei_import]=$(seconds "$t1")
took[mei]=$(seconds "$t0")

# Count every copy through the same client calls.
for name in rest sql; do
  port=$(free_port)
  (cd "$work/$name" && exec "$repo/target/release/mltrack" ui --port "$port" >log 2>&1) &
  pids+=($!)
  wait_up "http://127.0.0.1:$port"
  echo "mltrack import ($name): $(.venv/bin/python bench/import_count.py "http://127.0.0.1:$port")"
done
echo "mlflow-export-import: $(.venv/bin/python bench/import_count.py "$mei")"
echo "source:               $(.venv/bin/python bench/import_count.py "$src")"

echo "machine: $(nproc) cores; $(date -u +%FT%TZ); shape ${shape[*]} (experiments runs metrics steps)"
printf '%-46s %8s %8s\n' "copy into a fresh mltrack" "seconds" "vs mei"
ratio() { .venv/bin/python -c "print(f'{$1 / $2:.1f}x')"; }
printf '%-46s %8s %8s\n' "mlflow-export-import export-all + import-all" "${took[mei]}" "1.0x"
printf '%-46s %8s %8s\n' "  (export-all ${took[mei_export]} s, import-all ${took[mei_import]} s)" "" ""
printf '%-46s %8s %8s\n' "mltrack import --from http://… (MLflow REST)" "${took[rest]}" "$(ratio "${took[mei]}" "${took[rest]}")"
printf '%-46s %8s %8s\n' "mltrack import --from sqlite:///… (MLflow db)" "${took[sql]}" "$(ratio "${took[mei]}" "${took[sql]}")"
