#!/usr/bin/env python3
"""The ADBC benchmark: load the benchmark's 1,000,000-row CSV into
PostgreSQL through the ADBC driver (`iterable-host convert rows.csv
postgresql://... --table T`), against `psql \\copy` of the same file, side by
side in one run.

Run it through `scripts/bench.sh --adbc`, which builds the release host,
makes the python tools venv (the driver comes from the adbc-driver-postgresql
wheel) and starts a throwaway server (scripts/pg.sh). Both tools load every
column as text, each run into a table it has just dropped (the drop, one
psql call, is inside both timings). Peak RSS is the client's; the server's
work is in neither CPU figure.
"""

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402

ROOT = bench.ROOT
OUT = bench.BENCH / "adbc"
PYTOOLS = ROOT / "target" / "pytools" / "bin" / "python"
COLUMNS = "id, name, email, city, amount, delta, active, created_at, note"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--uri", required=True, help="the server (scripts/pg.sh start prints it)")
    ap.add_argument("--psql", required=True)
    args = ap.parse_args()
    bench.prepare(args.rows)
    OUT.mkdir(parents=True, exist_ok=True)
    plugins = OUT / "plugins"
    if plugins.exists():
        import shutil

        shutil.rmtree(plugins)
    lib = subprocess.run(
        [str(PYTOOLS), "-c", "import adbc_driver_postgresql, os; print(os.path.dirname(adbc_driver_postgresql.__file__))"],
        check=True, capture_output=True, text=True,
    ).stdout.strip() + "/libadbc_driver_postgresql.so"
    H = str(bench.HOST)
    bench.run([H, "install", "--adbc", lib, "--scheme", "postgresql", "--dir", str(plugins)], rss=False)
    csv = bench.DATA / "rows.csv"
    n = args.rows
    psql = [args.psql, args.uri, "-X", "-q", "-v", "ON_ERROR_STOP=1"]
    text_cols = ", ".join(f"{c} text" for c in COLUMNS.split(", "))
    host_cmd = (
        f"{' '.join(psql)} -c 'DROP TABLE IF EXISTS bench_adbc' && "
        f"{H} --plugin-dir {plugins} convert {csv} '{args.uri}' --table bench_adbc"
    )
    copy_cmd = (
        f"{' '.join(psql)} -c 'DROP TABLE IF EXISTS bench_copy; CREATE TABLE bench_copy ({text_cols})' "
        f"-c \"\\copy bench_copy FROM '{csv}' CSV HEADER\""
    )
    tools = bench.measure(
        f"convert {n:,} rows of CSV into PostgreSQL",
        [
            bench.Tool("iterable-host, ADBC driver", ["sh", "-c", host_cmd]),
            bench.Tool("psql \\copy", ["sh", "-c", copy_cmd]),
        ],
        args.runs,
    )
    for table in ("bench_adbc", "bench_copy"):
        got = subprocess.run([*psql, "-tA", "-c", f"SELECT count(*) FROM {table}"], check=True,
                             capture_output=True, text=True).stdout.strip()
        if got != str(n):
            sys.exit(f"{table} has {got} rows, expected {n}")
    # psql's CSV reads an empty unquoted field as NULL, the host as an empty
    # string: the comparison takes both as ''.
    cols = ", ".join(f"coalesce({c}, '')" for c in COLUMNS.split(", "))
    same = subprocess.run(
        [*psql, "-tA", "-c",
         f"SELECT count(*) FROM (SELECT {cols} FROM bench_adbc EXCEPT SELECT {cols} FROM bench_copy) d"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    base = bench.by(tools, "psql \\copy").med("wall")
    print()
    print("| tool | wall | CPU (client) | peak RSS (client) | wall vs psql \\copy |")
    print("|---|---|---|---|---|")
    for t in tools:
        print(f"| {t.name} | {bench.fmt_time(t.med('wall'))} | {bench.fmt_time(t.med('cpu'))} | "
              f"{t.med('rss_kb') / 1024:.1f} MiB | {bench.fmt_ratio(t.med('wall'), base)} |")
    print()
    print(f"Both tables hold {n:,} rows; rows of the ADBC table not in the \\copy one "
          f"(an empty field taken as ''): {same}.")


if __name__ == "__main__":
    main()
