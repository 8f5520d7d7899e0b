#!/usr/bin/env bash
# A private PostgreSQL cluster on loopback for the tests and benchmarks
# (Debian's server binaries, installed by scripts/setup.sh --test), trusting
# local connections. fsync is off, as test data is thrown away; the
# benchmarks set PG_FSYNC=on, so that a commit is on disk as in production.
#
#   tests/pg-cluster.sh start DIR   starts it, prints its base URI
#                                   (postgresql://postgres@127.0.0.1:PORT)
#   tests/pg-cluster.sh stop DIR    stops it and removes DIR
#
# As root the server runs as the `postgres` user: PostgreSQL refuses root.
set -euo pipefail
cmd=${1:?start|stop}
dir=${2:?cluster directory}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] || { echo "PostgreSQL is not installed: run scripts/setup.sh --test" >&2; exit 1; }
as_user=()
[ "$(id -u)" = 0 ] && as_user=(runuser -u postgres --)

case $cmd in
start)
    mkdir -p "$dir/sock"
    [ "$(id -u)" = 0 ] && chown -R postgres "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "${as_user[@]}" "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync >"$dir/initdb.log" 2>&1
    "${as_user[@]}" "$bin/pg_ctl" -D "$dir/data" -w -l "$dir/postgres.log" \
        -o "-p $port -k $dir/sock -c listen_addresses=127.0.0.1 -c fsync=${PG_FSYNC:-off} -c max_connections=400" start >/dev/null
    echo "postgresql://postgres@127.0.0.1:$port"
    ;;
stop)
    if [ -d "$dir/data" ]; then
        "${as_user[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
*) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
