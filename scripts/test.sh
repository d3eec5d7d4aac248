#!/usr/bin/env bash
# Runs every check CI runs: formatting, lints, and all tests of the workspace
# (unit, integration, end-to-end and doc tests). Installs what tests need.
set -euo pipefail
cd "$(dirname "$0")/.."

# Incremental caches only help rebuilds; on a clean run they would add
# gigabytes of disk for nothing. Set CARGO_INCREMENTAL=1 to keep them.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

# A clean run takes about 4 GB under target/ and tests/fuzz/target/, and
# 3.6 GB more for the DataFusion step; say so up front rather than failing
# half-way with "No space left on device".
need_kb=$((9 * 1024 * 1024))
free_kb=$(df -Pk . | awk 'NR == 2 { print $4 }')
echo "== disk: $((free_kb / 1024)) MiB free here"
if [ -n "$free_kb" ] && [ "$free_kb" -lt "$need_kb" ]; then
  echo "warning: less than 9 GB free; a clean run takes about 8 GB and builds may fail for lack of space"
fi

# The lz4 interoperability tests use the standard lz4 tool (Debian package
# lz4); they skip, saying so, when it cannot be installed.
if ! command -v lz4 >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing lz4"
    (apt-get update -qq && apt-get install -y -qq lz4 >/dev/null) || echo "warning: could not install lz4"
  else
    echo "warning: the lz4 tool is missing; its interoperability tests will skip"
  fi
fi

# pyarrow and openpyxl, to check the Parquet and Excel plugins against the
# reference implementations: a venv under target/ (scripts/pytools.sh).
# Tests that need it fail, rather than skip, when it could not be made.
echo "== python tools (pyarrow, openpyxl) under target/pytools"
ITERABLE_PYTHON="$PWD/$(bash scripts/pytools.sh)"
export ITERABLE_PYTHON ITERABLE_REQUIRE_PYTOOLS=1

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

# A short fuzz run of every target (scripts/fuzz.sh runs longer ones);
# FUZZ_SECONDS=0 skips it. A crash fails; a missing cargo-fuzz that cannot
# be installed only warns.
fuzz_secs="${FUZZ_SECONDS:-10}"
if [ "$fuzz_secs" != 0 ]; then
  if cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked --quiet; then
    echo "== fuzz (${fuzz_secs} s per target)"
    bash scripts/fuzz.sh "$fuzz_secs"
  else
    echo "warning: cargo-fuzz is not available; the fuzz run is skipped"
  fi
fi

echo "== PostgreSQL: a throwaway cluster under target/pg, for the ADBC driver tests"
ITERABLE_PG_URI=$(bash scripts/pg.sh start)
ITERABLE_PSQL=$(bash scripts/pg.sh psql)
export ITERABLE_PG_URI ITERABLE_PSQL ITERABLE_REQUIRE_PG=1
trap 'bash scripts/pg.sh stop || true' EXIT

echo "== cargo test"
cargo test --workspace --no-fail-fast

# The C ABI tests again, with the C plugins built with AddressSanitizer: a
# plugin reading memory the host lent it after the host freed it fails here
# even where the plain run happens to pass. About a minute.
echo "== AddressSanitizer (scripts/asan.sh)"
bash scripts/asan.sh

# The DataFusion engine plugin: a workspace of its own (DataFusion and
# Ballista build for about 15 minutes), built and tested against a local
# Ballista cluster in a step of its own. DATAFUSION=0 skips it.
if [ "${DATAFUSION:-1}" != 0 ]; then
  echo "== datafusion: the engine plugin and a Ballista cluster (scripts/datafusion.sh)"
  bash scripts/datafusion.sh
fi
