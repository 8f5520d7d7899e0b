#!/usr/bin/env bash
# Builds mltrack: the wasm bundle into target/site, then the server binary,
# which embeds target/site. Usage: scripts/build.sh [--site-only] [--release]
# (--site-only stops after target/site, for scripts/wheel.sh's maturin).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"

site_only=false
if [[ "${1:-}" == "--site-only" ]]; then
  site_only=true
  shift
fi
profile=debug
cargo_profile=()
wasm_profile=()
if [[ "${1:-}" == "--release" ]]; then
  profile=release
  cargo_profile=(--release)
  wasm_profile=(--profile wasm-release)
fi
wasm_dir=debug
[[ $profile == release ]] && wasm_dir=wasm-release

site=target/site
stage=target/site-stage
mkdir -p "$site/pkg" "$stage/pkg"

echo "==> wasm bundle ($profile)"
cargo build -p frontend --lib --target wasm32-unknown-unknown "${wasm_profile[@]}"
wasm-bindgen --target web --no-typescript --out-name mltrack --out-dir "$stage/pkg" \
  "target/wasm32-unknown-unknown/$wasm_dir/frontend.wasm"
if [[ $profile == release ]]; then
  # --converge repeats the passes while they still shrink the bundle (6 KB
  # less brotli'd); the name and producer sections are of no use to a browser.
  wasm-opt -Oz --converge --strip-debug --strip-producers \
    --enable-bulk-memory --enable-nontrapping-float-to-int \
    -o "$stage/pkg/mltrack_bg.wasm" "$stage/pkg/mltrack_bg.wasm"
fi
cp style/main.css "$stage/pkg/mltrack.css"
cp -r public/. "$stage/"
# Copy only what changed: the server embeds target/site and rebuilds when it changes.
(cd "$stage" && find . -type f) | while read -r f; do
  if ! cmp -s "$stage/$f" "$site/$f"; then
    mkdir -p "$(dirname "$site/$f")"
    cp "$stage/$f" "$site/$f"
  fi
done

$site_only && exit 0

echo "==> server ($profile)"
MLTRACK_SITE_DIR="$PWD/$site" cargo build -p server "${cargo_profile[@]}"
echo "built target/$profile/mltrack"
