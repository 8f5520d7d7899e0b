#!/usr/bin/env bash
# Start mltrack for one of MLflow's tests (called by mltrack_suite_plugin.py
# with MLTRACK_PORT, MLTRACK_DIR, MLTRACK_ARTIFACT_ROOT and
# MLTRACK_ARTIFACTS_DESTINATION set). It runs in the test process's working
# directory, as MLflow's in-process test server does, so relative artifact
# locations resolve there; its database lives in MLTRACK_DIR.
#   MLTRACK_BIN   the binary (default: target/release/mltrack, else target/debug/mltrack)
set -euo pipefail
: "${MLTRACK_PORT:?}" "${MLTRACK_DIR:?}"
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bin=${MLTRACK_BIN:-}
if [[ -z $bin ]]; then
  bin=$top/target/release/mltrack
  [[ -x $bin ]] || bin=$top/target/debug/mltrack
fi
args=(
  server --host 127.0.0.1 --port "$MLTRACK_PORT"
  --backend-store-uri "sqlite:///$MLTRACK_DIR/mltrack.db"
  --artifacts-destination "${MLTRACK_ARTIFACTS_DESTINATION:-$MLTRACK_DIR/artifacts}"
)
if [[ -n "${MLTRACK_ARTIFACT_ROOT:-}" ]]; then
  args+=(--default-artifact-root "$MLTRACK_ARTIFACT_ROOT")
fi
exec "$bin" "${args[@]}"
