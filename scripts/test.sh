#!/usr/bin/env bash
# Runs every test: installs what they need, builds mltrack (debug), then runs
# the Rust tests, the Python integration suite (real mlflow client against
# the real binary) and the browser tests (headless Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

scripts/setup.sh --test
scripts/build.sh

echo "==> Rust tests"
MLTRACK_SITE_DIR="$PWD/target/site" cargo test -p tracking -p store -p artifacts -p importer -p server -p app

echo "==> Python integration tests (mlflow $(.venv/bin/python -c 'import mlflow; print(mlflow.__version__)'))"
.venv/bin/python -m pytest tests/python -q -p no:cacheprovider

echo "==> Browser tests"
end2end/run.sh target/debug/mltrack
