#!/usr/bin/env python3
"""The isolation benchmark: plugins in the host's process against the same
plugins out of process (`--isolate-plugins`: a sandboxed runner per plugin,
batches over a pipe as Arrow IPC), side by side in one run.

Run it through `scripts/bench.sh --isolation`, which builds the release
binaries and the plugins. Cases, on the benchmark's 1,000,000-row CSV:

1. `count rows.csvp`: reading through the Rust plugin `csvp`;
2. `count rows.csv.lz4`: decoding through the lz4 codec plugin;
3. `convert rows.csv rows.csv.lz4`: encoding through it;
4. the first use of a plugin (open + first record, fresh process), in
   process and isolated (the runner's start, load and sandbox included).
"""

import argparse
import json
import os
import shutil
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402

ROOT = bench.ROOT
OUT = bench.BENCH / "isolation"
SCANNER = ROOT / "target" / "release" / "iterable-plugin-scanner"
LZ4_SO = ROOT / "target" / "release" / "libiterable_plugin_lz4.so"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--samples", type=int, default=21)
    ap.add_argument("--no-doc", action="store_true", help="do not update docs/performance.md")
    args = ap.parse_args()
    for p in (bench.HOST, SCANNER, LZ4_SO, bench.FIRST_USE):
        if not p.exists():
            sys.exit(f"missing {p}: run scripts/bench.sh --isolation")
    env = dict(os.environ)
    env["ITERABLEDATA_HOME"] = str(OUT / "home")
    env["XDG_CACHE_HOME"] = str(OUT / "cache")
    for k in ("ITERABLEDATA_PLUGIN_PATH", "ITERABLEDATA_NO_PLUGINS", "ITERABLEDATA_ISOLATE"):
        env.pop(k, None)
    os.environ.clear()
    os.environ.update(env)

    _, plugins, _, _, _ = bench.prepare(args.rows)
    H = str(bench.HOST)
    # The benchmark's plugins, and the lz4 codec plugin beside them.
    pdir = OUT / "plugins"
    shutil.rmtree(pdir, ignore_errors=True)
    shutil.copytree(plugins, pdir, symlinks=True)
    bench.run([H, "install", str(LZ4_SO), "--dir", str(pdir)], rss=False)
    csv = bench.DATA / "rows.csv"
    lz4 = OUT / "rows.csv.lz4"
    if not lz4.exists():
        bench.run([H, "--plugin-dir", str(pdir), "convert", str(csv), str(lz4)], rss=False)
    n = args.rows
    pd = ["--plugin-dir", str(pdir)]
    iso = [*pd, "--isolate-plugins"]
    count = bench.expect_count(n)
    cases = [
        (
            "count rows.csvp (Rust plugin csvp)",
            bench.measure(
                "1. count rows.csvp",
                [
                    bench.Tool("in process", [H, *pd, "count", str(bench.DATA / "rows.csvp")], count),
                    bench.Tool("isolated", [H, *iso, "count", str(bench.DATA / "rows.csvp")], count),
                ],
                args.runs,
            ),
        ),
        (
            "count rows.csv.lz4 (lz4 codec plugin, decode)",
            bench.measure(
                "2. count rows.csv.lz4",
                [
                    bench.Tool("in process", [H, *pd, "count", str(lz4)], count),
                    bench.Tool("isolated", [H, *iso, "count", str(lz4)], count),
                ],
                args.runs,
            ),
        ),
        (
            "convert rows.csv → rows.csv.lz4 (lz4 codec plugin, encode)",
            bench.measure(
                "3. convert rows.csv -> rows.csv.lz4",
                [
                    bench.Tool("in process", [H, *pd, "convert", str(csv), str(OUT / "in.csv.lz4")]),
                    bench.Tool("isolated", [H, *iso, "convert", str(csv), str(OUT / "iso.csv.lz4")]),
                ],
                args.runs,
            ),
        ),
    ]
    if (OUT / "in.csv.lz4").read_bytes() != (OUT / "iso.csv.lz4").read_bytes():
        sys.exit("the isolated encoder wrote other bytes than the one in process")

    bench.log("== 4. first use of a plugin (fresh process per sample)")
    small = str(bench.DATA / "small.csvp")
    inproc, isolated = [], []
    for _ in range(args.samples):
        inproc.append(json.loads(bench.run([str(bench.FIRST_USE), str(pdir), small], rss=False).stdout))
        isolated.append(
            json.loads(
                bench.run([str(bench.FIRST_USE), str(pdir), small, "--isolated", str(SCANNER)], rss=False).stdout
            )
        )
    first_in = statistics.median(x["first_record_us"] for x in inproc)
    first_iso = statistics.median(x["first_record_us"] for x in isolated)
    bench.log(f"   in process {first_in:.0f} µs, isolated {first_iso:.0f} µs")

    rows = []
    goals = []
    for name, (a, b) in cases:
        ratio = b.med("wall") / a.med("wall")
        for t in (a, b):
            rows.append(
                f"| {name} | {t.name} | {bench.fmt_time(t.med('wall'))} | {bench.fmt_time(t.med('cpu'))} "
                f"| {max(s.rss_kb for s in t.samples) / 1024:.1f} MiB | {t.med('wall') / a.med('wall'):.2f}× |"
            )
        goals.append((f"{name}, isolated vs in process (wall)", "≤ 1.3×", f"{ratio:.2f}×", ratio <= 1.3))
    goals.append(("first use of an isolated plugin (open + first record)", "≤ 5 ms", f"{first_iso / 1000:.2f} ms",
                  first_iso <= 5000))
    md = [
        f"Measured with `scripts/bench.sh --isolation --runs {args.runs}` ({n:,} rows; medians of "
        f"{args.runs} runs; first use: medians of {args.samples} fresh processes).",
        "",
        "| Goal | Target | Measured | Met |",
        "|---|---|---|---|",
        *[f"| {g} | {t} | {m} | {'yes' if ok else '**no**'} |" for g, t, m, ok in goals],
        "",
        "| Case | Where the plugin runs | Wall | CPU (user+sys, runner included) | Peak RSS (largest process) "
        "| wall vs in process |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        f"First use of the `csvp` plugin (open + first record): in process {first_in / 1000:.2f} ms, "
        f"isolated {first_iso / 1000:.2f} ms.",
    ]
    report = "\n".join(md)
    print(report)
    if not args.no_doc:
        bench.write_doc("isolation", report)


if __name__ == "__main__":
    main()
