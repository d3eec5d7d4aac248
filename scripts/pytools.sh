#!/usr/bin/env bash
# Creates the Python tools the tests and benchmarks compare against, in a
# venv under target/ (never the user's environment): pyarrow (Parquet),
# openpyxl, odfpy and xlwt (workbooks: .xlsx, .ods, .xls), duckdb (the
# benchmark's reference), and the ADBC drivers for SQLite and PostgreSQL
# (their wheels carry the driver libraries, used as they are). Prints the
# venv's python. Idempotent: a venv that already has them is reused.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="target/pytools"
py="$venv/bin/python"
want="pyarrow==22.0.0 openpyxl==3.1.5 duckdb==1.4.2 odfpy==1.4.1 xlwt==1.3.0 adbc-driver-sqlite==1.13.0 adbc-driver-postgresql==1.13.0"
stamp="$venv/.installed"
if [ -x "$py" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "$py"
  exit 0
fi
if ! python3 -m venv --help >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null) >&2
  fi
fi
python3 -m venv "$venv" >&2
"$py" -m pip install --quiet --disable-pip-version-check $want >&2
echo "$want" > "$stamp"
echo "$py"
