#!/usr/bin/env bash
# Builds the release binary of mltrack at an earlier commit, once, for the
# benchmarks to measure beside this build; prints its path.
# Usage: bench/previous.sh [REV]   (default: the commit in bench/previous-release)
#
# The commit is checked out in its own worktree under target/previous/ and
# built there with its own target directory (only the server: the API is
# what the benchmarks time), so this build's files are left alone; the
# binary is kept as target/previous/mltrack-<commit>.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
rev=${1:-$(cat bench/previous-release)}
commit=$(git rev-parse --short=12 "$rev^{commit}")
dir=$PWD/target/previous
out=$dir/mltrack-$commit
if [[ ! -x "$out" ]]; then
  tree=$dir/src-$commit
  mkdir -p "$dir"
  [[ -d "$tree" ]] || git worktree add --detach -f "$tree" "$commit" >&2
  # Builds of that time embedded plotly.js from node_modules.
  if [[ -f "$tree/package-lock.json" && ! -d "$tree/node_modules" ]]; then
    (cd "$tree" && npm ci --no-audit --no-fund >&2)
  fi
  (cd "$tree" && CARGO_TARGET_DIR="$dir/target" cargo build --release -p server >&2)
  cp "$dir/target/release/mltrack" "$out"
fi
echo "$out"
