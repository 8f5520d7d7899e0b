#!/usr/bin/env bash
# Run MLflow's own REST tracking tests against a tracking server that is not
# MLflow's in-process test server.  See README.md.
#
#   run.sh [--server mltrack|mlflow|fasttrackml|cmd|url] [--suite core|extended] [pytest args...]
#
#   --server mltrack      a fresh `mltrack server` per test (default; start-mltrack.sh,
#                         the binary from $MLTRACK_BIN or target/{release,debug}/mltrack)
#   --server mlflow       a fresh `mlflow server` (sqlite, --serve-artifacts) per test
#   --server fasttrackml  a fresh `fml server` (sqlite) per test
#   --server cmd          a fresh server per test from $MLTRACK_START_CMD (e.g. mltrack)
#   --server url          one shared server at $MLTRACK_URL (smoke runs; names collide)
#
# Environment (all optional):
#   MLFLOW_GIT       git dir of an MLflow snapshot (default: the newest
#                    .mirror/*mlflow*/repo found in a folder above this one that
#                    holds MLFLOW_REF; the repository harupy/mlflow has it)
#   MLFLOW_REF       commit whose tests/ is run (default below)
#   MLFLOW_VERSION   mlflow release installed for the tests' client side
#   SUITE_VENV       venv for the test process (made if missing)
#   MLFLOW_SERVER_PYTHON  python whose mlflow serves for --server mlflow
#                    (default: the suite venv's; point it at another venv to
#                    test another MLflow server release with the same tests)
#   FML_BIN          fasttrackml binary for --server fasttrackml (default: `fml` on PATH
#                    or in the suite venv)
#   OUT_DIR          where results go (default: a new temp dir, printed)
#   SUITE_TEST_TIMEOUT  per-test limit in seconds (default 300)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

server=mltrack
suite=core
while [[ $# -gt 0 ]]; do
  case $1 in
    --server) server=$2; shift 2 ;;
    --suite) suite=$2; shift 2 ;;
    --) shift; break ;;
    *) break ;;
  esac
done

# MLflow master at the 3.12.0rc0 cut ("Update ML package versions for
# 3.12.0rc0", 2026-04-24), where the 3.12 release line starts, so these tests
# pair with mlflow 3.12.0 (the snapshot's newer master commits, up to
# 2026-04-30, are development after the cut and are not used).
MLFLOW_REF=${MLFLOW_REF:-256c8571f95cb91d392cee8b7a20b5ca57b1ec1c}
MLFLOW_VERSION=${MLFLOW_VERSION:-3.12.0}
tmp=${TMPDIR:-/tmp}
SUITE_VENV=${SUITE_VENV:-$tmp/suiteenv}

# The snapshot: the newest MLflow git dir that has MLFLOW_REF, looked up as
# .mirror/<owner>+mlflow/repo in a folder above this one.
if [[ -z ${MLFLOW_GIT:-} ]]; then
  while IFS= read -r d; do
    if git --git-dir="$d" cat-file -e "$MLFLOW_REF^{commit}" 2>/dev/null; then
      MLFLOW_GIT=$d
      break
    fi
  done < <(for up in .. ../.. ../../.. ../../../..; do ls -dt "$here/$up"/.mirror/*mlflow*/repo 2>/dev/null || true; done)
fi
[[ -n ${MLFLOW_GIT:-} ]] || { echo "no MLflow snapshot found (harupy/mlflow under a .mirror folder above): set MLFLOW_GIT" >&2; exit 2; }

case $suite in
  core)
    files=(
      tests/tracking/test_model_registry.py
      tests/tracking/test_mlflow_artifacts.py
      tests/tracking/test_rest_tracking.py
    ) ;;
  extended)
    files=(
      tests/tracking/test_rest_tracking.py
      tests/tracking/test_model_registry.py
      tests/tracking/test_mlflow_artifacts.py
      tests/tracking/test_client_webhooks.py
      tests/store/model_registry/test_rest_store_webhooks.py
      tests/tracing/test_otel_logging.py
      tests/tracing/test_otel_loading.py
    ) ;;
  *) echo "unknown --suite $suite" >&2; exit 2 ;;
esac

[[ -d $MLFLOW_GIT ]] || { echo "no MLflow snapshot at $MLFLOW_GIT (set MLFLOW_GIT)" >&2; exit 2; }
git --git-dir="$MLFLOW_GIT" cat-file -e "$MLFLOW_REF^{commit}" 2>/dev/null ||
  { echo "$MLFLOW_GIT has no commit $MLFLOW_REF (set MLFLOW_GIT or MLFLOW_REF)" >&2; exit 2; }

# The test process: MLflow's client at the release matching the tests.
if ! "$SUITE_VENV/bin/python" -c "import mlflow, sys; sys.exit(mlflow.__version__ != '$MLFLOW_VERSION')" 2>/dev/null; then
  echo "== making $SUITE_VENV (mlflow==$MLFLOW_VERSION)"
  python3 -m venv "$SUITE_VENV"
  "$SUITE_VENV/bin/pip" install -q --upgrade pip
  "$SUITE_VENV/bin/pip" install -q "mlflow==$MLFLOW_VERSION" pytest==9.2.0 \
    pytest-asyncio==1.5.0 pytest-timeout==2.4.0 psutil scikit-learn \
    opentelemetry-exporter-otlp-proto-http
fi

work=$(mktemp -d "$tmp/mlflow-suite.XXXXXX")
trap 'rm -rf "$work"' EXIT
OUT_DIR=${OUT_DIR:-$(mktemp -d "$tmp/mlflow-suite-out.XXXXXX")}
mkdir -p "$OUT_DIR"

# MLflow's tests, straight from the snapshot; none of them is kept here.
# (A snapshot may lack its largest blobs, e.g. docs videos; git names them on
# stderr even though tests/ does not need them, so that noise is dropped.)
git --git-dir="$MLFLOW_GIT" archive "$MLFLOW_REF" tests 2> >(grep -v '^error: invalid object' >&2) |
  tar -x -C "$work"
[[ -f $work/tests/tracking/test_rest_tracking.py ]] || { echo "no tests/ in $MLFLOW_REF" >&2; exit 2; }
# Our own pytest settings instead of MLflow's pyproject (its addopts and
# warning-as-error filters are for MLflow's dev tree).
cat >"$work/pytest.ini" <<'EOF'
[pytest]
asyncio_default_fixture_loop_scope = function
EOF

unset MLTRACK_URL_MODE
case $server in
  mltrack)
    export MLTRACK_START_CMD="$here/start-mltrack.sh"
    server_desc="mltrack (${MLTRACK_BIN:-target/release or target/debug})"
    unset MLTRACK_URL ;;
  mlflow)
    export MLFLOW_SERVER_PYTHON=${MLFLOW_SERVER_PYTHON:-$SUITE_VENV/bin/python}
    export MLTRACK_START_CMD="$here/start-mlflow.sh"
    # One migrated SQLite file, copied for every server (migrations take seconds).
    export MLTRACK_DB_TEMPLATE=$work/template.db
    "$MLFLOW_SERVER_PYTHON" -c "
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore
SqlAlchemyStore('sqlite:///$MLTRACK_DB_TEMPLATE', '$work/unused').engine.dispose()" >/dev/null 2>&1
    server_desc="mlflow $("$MLFLOW_SERVER_PYTHON" -c 'import mlflow; print(mlflow.__version__)')"
    unset MLTRACK_URL ;;
  fasttrackml)
    export FML_BIN=${FML_BIN:-$(command -v fml || echo "$SUITE_VENV/bin/fml")}
    [[ -x $FML_BIN ]] || { echo "no fml binary (pip install fasttrackml, or set FML_BIN)" >&2; exit 2; }
    export MLTRACK_START_CMD="$here/start-fasttrackml.sh"
    server_desc="fasttrackml $("$FML_BIN" --version 2>/dev/null | head -1 || true)"
    unset MLTRACK_URL ;;
  cmd)
    : "${MLTRACK_START_CMD:?--server cmd needs MLTRACK_START_CMD}"
    server_desc="command: $MLTRACK_START_CMD"
    unset MLTRACK_URL ;;
  url)
    : "${MLTRACK_URL:?--server url needs MLTRACK_URL}"
    server_desc="shared server at $MLTRACK_URL"
    unset MLTRACK_START_CMD ;;
  *) echo "unknown --server $server" >&2; exit 2 ;;
esac

echo "== MLflow tests: $(git --git-dir="$MLFLOW_GIT" log -1 --format='%h %cs %s' "$MLFLOW_REF")"
echo "== client: mlflow $("$SUITE_VENV/bin/python" -c 'import mlflow; print(mlflow.__version__)'); server: $server_desc"
echo "== suite: $suite (${#files[@]} files); results in $OUT_DIR"

start=$(date +%s)
set +e
(
  cd "$work"
  # CI=true would make MLflow's conftest build and serve a wheel of its source tree.
  env -u CI PYTHONPATH="$here:$work" \
    MLTRACK_RESULTS="$OUT_DIR/results.jsonl" \
    MLTRACK_LOG_DIR="${MLTRACK_LOG_DIR:-$OUT_DIR/server-logs}" \
    "$SUITE_VENV/bin/python" -m pytest -p mltrack_suite_plugin -p no:cacheprovider \
    --timeout "${SUITE_TEST_TIMEOUT:-300}" -q -rfE "${files[@]}" "$@"
) 2>&1 | tee "$OUT_DIR/pytest.log"
rc=${PIPESTATUS[0]}
set -e
elapsed=$(($(date +%s) - start))
{
  echo "server: $server_desc"
  echo "tests: $MLFLOW_REF ($suite)"
  grep '^mltrack-suite:' "$OUT_DIR/pytest.log" || true
  echo "wall time: ${elapsed}s"
} | tee "$OUT_DIR/summary.txt"
exit "$rc"
