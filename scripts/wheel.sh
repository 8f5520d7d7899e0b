#!/usr/bin/env bash
# Builds the Python wheel `mltrack-server` for this platform into dist/: the
# web assets (wasm bundle, CSS, plotly.js) first, then maturin builds the
# stripped `mltrack` binary with them embedded and packs it as a binary-only
# wheel, tagged with the oldest manylinux policy the binary satisfies.
#
# Usage: scripts/wheel.sh [--debug]
#   --debug   a debug build (reuses the test build; what scripts/test.sh
#             checks the packaging with). Without it: release, for users.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

MATURIN_VERSION=1.16.0

profile=release
build_args=(--release)
maturin_args=()
if [[ "${1:-}" == "--debug" ]]; then
  profile=dev
  build_args=()
  maturin_args=(--profile dev)
fi

scripts/setup.sh
if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv .venv
fi
if [[ "$(.venv/bin/maturin --version 2>/dev/null)" != "maturin $MATURIN_VERSION" ]]; then
  echo "==> pip install maturin==$MATURIN_VERSION"
  .venv/bin/pip install -q --disable-pip-version-check "maturin==$MATURIN_VERSION"
fi

scripts/build.sh --site-only "${build_args[@]}"

echo "==> wheel ($profile)"
rm -f dist/mltrack_server-*.whl
MLTRACK_SITE_DIR="$PWD/target/site" .venv/bin/maturin build --out dist "${maturin_args[@]}"
wheel=$(ls dist/mltrack_server-*.whl)
echo "built $wheel ($(du -h "$wheel" | cut -f1))"
