#!/usr/bin/env bash
# Installs what building (and, with --test, testing) mltrack needs. Every step
# is skipped when its pinned version is already there, so running it again is
# cheap. Usage: scripts/setup.sh [--test]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

WASM_BINDGEN_VERSION=0.2.130   # must equal the wasm-bindgen pin in Cargo.toml
MLFLOW_REQUIREMENTS=tests/python/requirements.txt

step() { echo "==> $*"; }
as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

if [[ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]]; then
  step "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 8 minutes)"
  # Not --locked: its lock file pins a webpki-roots release the registry no longer serves.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --root "$HOME/.cargo"
fi

# node_modules: playwright-core (tests), binaryen's wasm-opt (release builds),
# plotly.js (served by mltrack). Reinstalled only when the lock file changes.
if [[ ! -f node_modules/.package-lock.json ]] || ! cmp -s package-lock.json node_modules/.mltrack-lock; then
  step "npm ci"
  npm ci --no-audit --no-fund
  cp package-lock.json node_modules/.mltrack-lock
fi

if [[ "${1:-}" == "--test" ]]; then
  # The test script checks formatting and lints.
  for component in clippy rustfmt; do
    if ! rustup component list --installed | grep -q "^$component"; then
      step "rustup component add $component"
      rustup component add "$component"
    fi
  done
  if [[ ! -x /usr/bin/chromium ]]; then
    step "apt-get install chromium"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
  # PostgreSQL server binaries: the import tests read an MLflow database on it.
  if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || ! command -v psql >/dev/null; then
    step "apt-get install postgresql"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  if [[ ! -x .venv/bin/python ]]; then
    step "python venv"
    python3 -m venv .venv
  fi
  if ! cmp -s "$MLFLOW_REQUIREMENTS" .venv/.mltrack-requirements; then
    step "pip install -r $MLFLOW_REQUIREMENTS (mlflow client for the tests)"
    .venv/bin/pip install -q --disable-pip-version-check -r "$MLFLOW_REQUIREMENTS"
    cp "$MLFLOW_REQUIREMENTS" .venv/.mltrack-requirements
  fi
fi
