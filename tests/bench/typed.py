#!/usr/bin/env python3
"""The typed-formats benchmark: Parquet through the parquet plugin against
DuckDB, side by side in one run, on the benchmark's 1,000,000-row data set.

Run it through `scripts/bench.sh --typed`, which builds the release host and
the parquet plugin, and makes the python tools venv (duckdb from PyPI).
Cases (medians; wall, CPU and peak RSS as in bench.py):

1. count rows.parquet (zstd)
2. convert rows.parquet -> rows.jsonl.zst
3. convert rows.csv.gz -> rows.parquet

DuckDB runs through its Python package, so its peak RSS includes the
interpreter (about 20 MiB); it uses every core, as iterable-host does.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402

ROOT = bench.ROOT
TYPED = bench.BENCH / "typed"
PARQUET_SO = ROOT / "target" / "release" / "libiterable_plugin_parquet.so"
PYTOOLS = ROOT / "target" / "pytools" / "bin" / "python"

DUCK = """
import sys, duckdb
con = duckdb.connect()
sql = sys.argv[1]
r = con.execute(sql).fetchall()
if r: print(r[0][0])
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    bench.require((bench.HOST, PARQUET_SO, PYTOOLS), "--typed")
    bench.prepare(args.rows)
    hp = bench.fresh_plugins(TYPED, (PARQUET_SO,))
    gz = bench.DATA / "rows.csv.gz"
    pq = TYPED / "rows.parquet"
    n = args.rows
    bench.run([*hp, "convert", str(gz), str(pq)], rss=False)
    bench.expect_count(n)(bench.run([*hp, "count", str(pq)], rss=False).stdout)
    PY = str(PYTOOLS)
    out = TYPED / "out"
    out.mkdir(exist_ok=True)

    count = bench.measure(
        "1. count rows.parquet",
        [
            bench.Tool("iterable-host", [*hp, "count", str(pq)], bench.expect_count(n)),
            bench.Tool(
                "DuckDB count(*)",
                [PY, "-c", DUCK, f"SELECT count(*) FROM read_parquet('{pq}')"],
                bench.expect_count(n),
            ),
            bench.Tool(
                "DuckDB full scan",
                [PY, "-c", DUCK, f"COPY (SELECT * FROM read_parquet('{pq}')) TO '/dev/null' (FORMAT csv)"],
            ),
        ],
        args.runs,
    )
    to_jsonl = bench.measure(
        "2. convert rows.parquet -> rows.jsonl.zst",
        [
            bench.Tool("iterable-host", [*hp, "convert", str(pq), str(out / "host.jsonl.zst")]),
            bench.Tool(
                "DuckDB",
                [
                    PY,
                    "-c",
                    DUCK,
                    f"COPY (SELECT * FROM read_parquet('{pq}')) TO '{out / 'duck.jsonl.zst'}' "
                    "(FORMAT json, COMPRESSION zstd)",
                ],
            ),
        ],
        args.runs,
    )
    to_parquet = bench.measure(
        "3. convert rows.csv.gz -> rows.parquet",
        [
            bench.Tool("iterable-host", [*hp, "convert", str(gz), str(out / "host.parquet")]),
            bench.Tool(
                "DuckDB",
                [
                    PY,
                    "-c",
                    DUCK,
                    f"COPY (SELECT * FROM read_csv('{gz}', all_varchar=true, header=true)) "
                    f"TO '{out / 'duck.parquet'}' (FORMAT parquet, COMPRESSION zstd)",
                ],
            ),
        ],
        args.runs,
    )
    for f in ("host.jsonl.zst", "duck.jsonl.zst"):
        bench.expect_count(n)(bench.run([*hp, "count", str(out / f)], rss=False).stdout)
    for f in ("host.parquet", "duck.parquet"):
        bench.expect_count(n)(bench.run([*hp, "count", str(out / f)], rss=False).stdout)

    print()
    print(f"| case | tool | wall | CPU | peak RSS | wall vs DuckDB |")
    print("|---|---|---|---|---|---|")
    for case, tools, ref in (
        ("count rows.parquet", count, "DuckDB full scan"),
        ("rows.parquet → rows.jsonl.zst", to_jsonl, "DuckDB"),
        ("rows.csv.gz → rows.parquet", to_parquet, "DuckDB"),
    ):
        base = bench.by(tools, ref).med("wall")
        for t in tools:
            print(
                f"| {case} | {t.name} | {bench.fmt_time(t.med('wall'))} | {bench.fmt_time(t.med('cpu'))} | "
                f"{t.med('rss_kb') / 1024:.1f} MiB | {bench.fmt_ratio(t.med('wall'), base)} |"
            )
    print()
    print(f"rows.parquet: {pq.stat().st_size / 1e6:.1f} MB (zstd, written by iterable-host); "
          f"DuckDB's: {(out / 'duck.parquet').stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
