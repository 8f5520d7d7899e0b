#!/usr/bin/env bash
# Builds mltrack (release) and starts `mltrack ui` on http://localhost:5000,
# with its SQLite file and artifacts in the directory you run this from.
# Arguments go to `mltrack ui` (see `mltrack ui --help`).
set -euo pipefail
workdir=$(pwd)
repo=$(cd "$(dirname "$0")/.." && pwd)
(cd "$repo" && scripts/setup.sh && scripts/build.sh --release)
cd "$workdir"
exec "$repo/target/release/mltrack" ui "$@"
