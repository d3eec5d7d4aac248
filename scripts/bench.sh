#!/usr/bin/env bash
# The benchmark: iterable-host against Miller and the Python IterableData,
# and the costs of the plugin host. One command:
#
#   scripts/bench.sh [--runs N] [--rows N] [--samples N] [--no-doc]
#   scripts/bench.sh --typed [--runs N]    (Parquet against DuckDB)
#   scripts/bench.sh --isolation [--runs N] (plugins in process against out of process)
#   scripts/bench.sh --engines [--runs N]   (datafusion against DuckDB and sqlengine)
#
# It installs what it needs (Miller, zstd, GNU time with apt-get when
# missing; a Python venv with iterabledata and zstandard under
# target/bench/venv), builds the release binaries, generates the data set
# once (target/bench/data) and runs tests/bench/bench.py, which prints the
# results and writes them into docs/performance.md. See that page.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v mlr >/dev/null || missing+=(miller)
command -v zstd >/dev/null || missing+=(zstd)
command -v gzip >/dev/null || missing+=(gzip)
[ -x /usr/bin/time ] || missing+=(time)
command -v python3 >/dev/null || missing+=(python3 python3-venv)
if ((${#missing[@]})); then
  echo "== installing ${missing[*]}" >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "bench.sh: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y "${missing[@]}" >&2 || { apt-get update >&2 && apt-get install -y "${missing[@]}" >&2; }
fi

VENV=target/bench/venv
if ! "$VENV/bin/python" -c 'import iterable, zstandard' 2>/dev/null; then
  echo "== creating $VENV with iterabledata and zstandard" >&2
  mkdir -p target/bench
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check iterabledata zstandard >&2
fi

echo "== building (release)" >&2
cargo build --release -p iterable-host-cli --bins >&2
cargo build --release -p iterable-bench-corecsv --lib --examples >&2
# The C ABI's benchmark plugin, from the header alone.
mkdir -p target/bench/ccsv
"${CC:-cc}" -O2 -std=c99 -shared -fPIC -fvisibility=hidden -I iterable-plugin-api/include \
  tests/bench/ccsv/ccsv.c -o target/bench/ccsv/libccsv.so >&2

# The previous release, built from its own sources (this repository's
# history), so that its figures are measured side by side in the same run.
PREV=target/bench/release-1.0
PREV_COMMIT=792c8e27c0fc831c0e3bacbf21d0ef0f9138249f
if [ ! -x "$PREV/target/release/iterable-host" ] || [ "$(cat "$PREV/commit" 2>/dev/null)" != "$PREV_COMMIT" ]; then
  if git cat-file -e "$PREV_COMMIT^{commit}" 2>/dev/null; then
    echo "== building the previous release (1.0, $PREV_COMMIT) in $PREV" >&2
    rm -rf "$PREV/src" && mkdir -p "$PREV/src"
    git archive "$PREV_COMMIT" | tar -x -C "$PREV/src"
    CARGO_TARGET_DIR="$PWD/$PREV/target" cargo build --release --manifest-path "$PREV/src/Cargo.toml" \
      -p iterable-host --bin iterable-host >&2
    CARGO_TARGET_DIR="$PWD/$PREV/target" cargo build --release --manifest-path "$PREV/src/Cargo.toml" \
      -p iterable-bench-corecsv --lib >&2
    echo "$PREV_COMMIT" > "$PREV/commit"
  else
    echo "warning: the 1.0 release is not in this clone's history; it is left out of the comparison" >&2
  fi
fi

# `--typed`: the Parquet benchmark against DuckDB (tests/bench/typed.py).
if [ "${1:-}" = "--typed" ]; then
  shift
  cargo build --release -p iterable-plugin-parquet --lib >&2
  bash scripts/pytools.sh >/dev/null
  exec "$VENV/bin/python" tests/bench/typed.py "$@"
fi

# `--engines`: GROUP BY through the datafusion and sql engines against
# DuckDB (tests/bench/engines.py); the datafusion plugin is built in release
# in its own workspace (long the first time).
if [ "${1:-}" = "--engines" ]; then
  shift
  cargo build --release -p iterable-plugin-sqlengine -p iterable-plugin-parquet --lib >&2
  (cd plugins-examples/datafusion && cargo build --release --lib >&2)
  bash scripts/pytools.sh >/dev/null
  exec "$VENV/bin/python" tests/bench/engines.py "$@"
fi

# `--isolation`: plugins in the host's process against the same plugins in
# sandboxed runners (tests/bench/isolation.py).
if [ "${1:-}" = "--isolation" ]; then
  shift
  cargo build --release -p iterable-plugin-lz4 --lib >&2
  exec "$VENV/bin/python" tests/bench/isolation.py "$@"
fi

# `--adbc`: CSV into PostgreSQL through the ADBC driver, against psql \copy
# (tests/bench/adbc.py), on a throwaway server (scripts/pg.sh).
if [ "${1:-}" = "--adbc" ]; then
  shift
  bash scripts/pytools.sh >/dev/null
  uri=$(bash scripts/pg.sh start)
  trap 'bash scripts/pg.sh stop || true' EXIT
  "$VENV/bin/python" tests/bench/adbc.py --uri "$uri" --psql "$(bash scripts/pg.sh psql)" "$@"
  exit
fi

exec "$VENV/bin/python" tests/bench/bench.py "$@"
