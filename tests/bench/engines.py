#!/usr/bin/env python3
"""The engines benchmark: `SELECT city, count(*), avg(amount) ... GROUP BY
city` on the benchmark's 1,000,000-row data set, over rows.csv.gz and over
rows.parquet, through `query --engine datafusion`, `query --engine sql` (the
sqlengine plugin: SQLite in memory) and DuckDB (its Python package), side by
side in one run; wall, CPU and peak RSS (medians, as in bench.py).

Run it through `scripts/bench.sh --engines`, which builds the release host,
the sqlengine and parquet plugins and the datafusion plugin (release, in its
own workspace), and makes the python tools venv (duckdb from PyPI).
"""

import argparse
import json
import re
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402

ROOT = bench.ROOT
OUT = bench.BENCH / "engines"
DATAFUSION_SO = ROOT / "plugins-examples" / "datafusion" / "target" / "release" / "libiterable_plugin_datafusion.so"
SQLENGINE_SO = ROOT / "target" / "release" / "libiterable_plugin_sqlengine.so"
PARQUET_SO = ROOT / "target" / "release" / "libiterable_plugin_parquet.so"
PYTOOLS = ROOT / "target" / "pytools" / "bin" / "python"

# DuckDB's query is also timed inside Python, from after `import duckdb` and
# `connect()` to the last row fetched: its engine time without the start-up
# of the interpreter and the module. The datafusion plugin reports the same
# span at -v (from the host's call, planning included, to the last batch),
# without the start of iterable-host and the loading of the plugin.
DUCK = """
import sys, json, time, duckdb
con = duckdb.connect()
t0 = time.perf_counter()
rows = con.execute(sys.argv[1]).fetchall()
print(json.dumps({"rows": rows, "query_s": time.perf_counter() - t0}, default=str))
"""


def query_time(stderr):
    """The plugin's own time at -v (`datafusion: query done in 5.2 ms`), in seconds."""
    m = re.search(r"query done in ([0-9.]+) ms", stderr)
    if not m:
        sys.exit(f"no query time in the datafusion plugin's -v output: {stderr[-500:]}")
    return float(m.group(1)) / 1000


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--no-doc", action="store_true", help="do not update docs/performance.md")
    args = ap.parse_args()
    bench.require((bench.HOST, DATAFUSION_SO, SQLENGINE_SO, PARQUET_SO, PYTOOLS), "--engines")
    bench.prepare(args.rows)
    hp = bench.fresh_plugins(OUT, (DATAFUSION_SO, SQLENGINE_SO, PARQUET_SO))
    gz = bench.DATA / "rows.csv.gz"
    pq = OUT / "rows.parquet"
    if not pq.exists():
        bench.run([*hp, "convert", str(gz), str(pq)], rss=False)
    sql = "SELECT city, count(*) AS n, avg(CAST(amount AS DOUBLE)) AS avg_amount FROM {t} GROUP BY city ORDER BY city"
    cases = []
    for label, path, duck_from in (
        ("rows.csv.gz", gz, f"read_csv('{gz}', header=true, all_varchar=true)"),
        ("rows.parquet", pq, f"read_parquet('{pq}')"),
    ):
        q = sql.format(t="data")
        tools = bench.measure(
            f"GROUP BY city over {label}",
            [
                # -v: the plugin reports its own time (planning and execution).
                bench.Tool("datafusion", [*hp, "-v", "query", "--engine", "datafusion", q, str(path)]),
                bench.Tool("DuckDB", [str(PYTOOLS), "-c", DUCK, sql.format(t=duck_from)]),
                bench.Tool("sqlengine", [*hp, "query", "--engine", "sql", q, str(path)]),
            ],
            args.runs,
        )
        # The same groups and counts from all three.
        counts = []
        for t in tools:
            out = t.samples[-1].stdout
            if t.name == "DuckDB":
                counts.append(sorted((r[0], r[1]) for r in json.loads(out)["rows"]))
            else:
                counts.append(sorted((r["city"], r["n"]) for r in map(json.loads, out.splitlines())))
        if not all(c == counts[0] for c in counts):
            sys.exit(f"the engines disagree on {label}: {counts}")
        cases.append((label, tools))

    md = [
        f"Measured with `scripts/bench.sh --engines --runs {args.runs}` ({args.rows:,} rows; medians; "
        "`SELECT city, count(*), avg(amount) ... GROUP BY city`; DuckDB through its Python package, "
        "so its RSS includes the interpreter).",
        "",
        "| Input | Engine | Wall | CPU (user+sys) | Peak RSS | wall vs DuckDB |",
        "|---|---|---|---|---|---|",
    ]
    goals = []
    for label, tools in cases:
        duck = bench.by(tools, "DuckDB")
        for t in tools:
            md.append(
                f"| {label} | {t.name} | {bench.fmt_time(t.med('wall'))} | {bench.fmt_time(t.med('cpu'))} "
                f"| {max(s.rss_kb for s in t.samples) / 1024:.1f} MiB | {bench.fmt_ratio(t.med('wall'), duck.med('wall'))} |"
            )
        df, sq = bench.by(tools, "datafusion"), bench.by(tools, "sqlengine")
        r = df.med("wall") / duck.med("wall")
        goals.append(f"| {label}: datafusion vs DuckDB (wall) | ≤ 1.5× | {r:.2f}× | {'yes' if r <= 1.5 else '**no**'} |")
        dq = statistics.median(json.loads(s.stdout)["query_s"] for s in duck.samples)
        fq = statistics.median(query_time(s.stderr) for s in df.samples)
        goals.append(f"| {label}: datafusion vs DuckDB, each query alone ({bench.fmt_time(fq)} vs {bench.fmt_time(dq)}) "
                     f"| ≤ 1.5× | {fq / dq:.2f}× | {'yes' if fq <= 1.5 * dq else '**no**'} |")
        goals.append(f"| {label}: datafusion vs sqlengine (wall) | far ahead | {df.med('wall') / sq.med('wall'):.2f}× | "
                     f"{'yes' if df.med('wall') * 2 <= sq.med('wall') else '**no**'} |")
    md = md[:1] + ["", "| Goal | Target | Measured | Met |", "|---|---|---|---|", *goals] + md[1:]
    report = "\n".join(md)
    print(report)
    if not args.no_doc:
        bench.write_doc("engines", report)


if __name__ == "__main__":
    main()
