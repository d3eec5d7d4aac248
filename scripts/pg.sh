#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests and benchmarks.
#
#   scripts/pg.sh start   installs the Debian package if PostgreSQL is
#                         missing, makes a cluster under target/pg on a free
#                         local port (user iterable, password secret, database
#                         iterable), starts it, and prints its URI
#   scripts/pg.sh stop    stops it
#   scripts/pg.sh psql    the psql it uses (for the tests' checks)
#
# The server refuses to run as root; as root, it runs as the postgres user
# (the package creates it). Nothing outside target/pg is touched, apart from
# installing the package.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="$PWD/target/pg"

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
bin=$(find_bin)
run=()
if [ "$(id -u)" = 0 ]; then run=(runuser -u postgres --); fi

case "${1:-}" in
start)
  if [ -z "$bin" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "== installing PostgreSQL (Debian package)" >&2
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) >&2
      bin=$(find_bin)
    fi
    if [ -z "$bin" ]; then
      echo "error: PostgreSQL is not installed, and installing it needs root and apt-get" >&2
      exit 1
    fi
  fi
  if [ -f "$dir/data/postmaster.pid" ]; then "$0" stop >&2 || true; fi
  rm -rf "$dir"
  mkdir -p "$dir"
  if [ ${#run[@]} -gt 0 ]; then chown postgres "$dir"; fi
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  echo secret > "$dir/pw"
  "${run[@]}" "$bin/initdb" -D "$dir/data" -U iterable --pwfile="$dir/pw" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  "${run[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" start >&2 \
    || { cat "$dir/server.log" >&2; exit 1; }
  PGPASSWORD=secret "$bin/createdb" -h 127.0.0.1 -p "$port" -U iterable iterable
  echo "postgresql://iterable:secret@127.0.0.1:$port/iterable" | tee "$dir/uri"
  ;;
stop)
  if [ -n "$bin" ] && [ -f "$dir/data/postmaster.pid" ]; then
    "${run[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2
  fi
  ;;
psql)
  echo "$bin/psql"
  ;;
*)
  echo "usage: scripts/pg.sh start|stop|psql" >&2
  exit 2
  ;;
esac
