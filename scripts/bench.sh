#!/usr/bin/env bash
# The benchmark: iterable-host against Miller and the Python IterableData,
# and the costs of the plugin host. One command:
#
#   scripts/bench.sh [--runs N] [--rows N] [--samples N] [--no-doc]
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
cargo build --release -p iterable-host-cli -p iterable-bench-corecsv --bins --examples >&2

exec "$VENV/bin/python" tests/bench/bench.py "$@"
