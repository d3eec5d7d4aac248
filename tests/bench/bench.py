#!/usr/bin/env python3
"""The IterableData benchmark: iterable-host against Miller and the Python
IterableData, side by side in one run, plus the costs of the plugin host.

Run it through `scripts/bench.sh`, which installs what it needs and builds
the release binaries first. Everything it writes stays under target/bench/
(data, installed plugins, outputs), except the results section of
docs/performance.md (between the `bench:begin` and `bench:end` markers),
which it regenerates unless --no-doc is given.

Wall time is measured around each process; CPU time (user + sys) and peak
RSS come from os.wait4. For a shell pipeline (Miller with zstd or gzip) the
CPU time is that of every process in it, and the peak RSS is that of its
largest process. Each case runs its tools in turn, run after run, so that
a change in the machine's load hits them alike; the table shows medians.
"""

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "target" / "bench"
DATA = BENCH / "data"
OUT = BENCH / "out"
HOST = ROOT / "target" / "release" / "iterable-host"
GEN = ROOT / "target" / "release" / "examples" / "bench_gen"
FIRST_USE = ROOT / "target" / "release" / "examples" / "first_use"
PLUGIN_SO = ROOT / "target" / "release" / "libiterable_bench_corecsv.so"
MANIFEST = ROOT / "tests" / "bench" / "corecsv" / "plugin.toml"
# The C ABI's benchmark plugin: CSV read in C, handed over as Arrow (built by
# scripts/bench.sh with the system C compiler).
CCSV_SO = BENCH / "ccsv" / "libccsv.so"
PYTHON = BENCH / "venv" / "bin" / "python"
# The previous release (1.0), built by scripts/bench.sh from its own sources.
PREV = BENCH / "release-1.0"
PREV_HOST = PREV / "target" / "release" / "iterable-host"
PREV_PLUGIN_SO = PREV / "target" / "release" / "libiterable_bench_corecsv.so"
PREV_MANIFEST = PREV / "src" / "tests" / "bench" / "corecsv" / "plugin.toml"
DOC = ROOT / "docs" / "performance.md"
TIME = "/usr/bin/time"
SEED = 42
MANY = 1000

PY_COUNT = """
import sys
from iterable.helpers.detect import open_iterable
it = open_iterable(sys.argv[1])
n = 0
for _ in it:
    n += 1
it.close()
print(n)
"""

PY_CONVERT = """
import sys
from iterable.convert import convert
r = convert(sys.argv[1], sys.argv[2])
print(r.rows_out)
"""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Sample:
    def __init__(self, wall, cpu, rss_kb, stdout, stderr=""):
        self.wall, self.cpu, self.rss_kb, self.stdout, self.stderr = wall, cpu, rss_kb, stdout, stderr


def run(argv, env=None, rss=True):
    """Runs one process; returns its Sample, or raises with its stderr.

    The peak RSS comes from GNU time's %M: a process's ru_maxrss starts at
    the size of whatever forked it (Linux carries it across exec), so it
    must be forked by a small process, not by this Python one. The CPU time
    comes from os.wait4 on GNU time, which includes the processes it waited
    for.
    """
    with tempfile.NamedTemporaryFile() as rfile, tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        cmd = [TIME, "-f", "%M", "-o", rfile.name, *argv] if rss else list(argv)
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise RuntimeError(
                f"{argv!r} failed ({proc.returncode}): {err.read().decode(errors='replace')[-2000:]}"
            )
        rss_kb = int(Path(rfile.name).read_text().split()[-1]) if rss else 0
        return Sample(
            wall, ru.ru_utime + ru.ru_stime, rss_kb, out.read().decode(errors="replace"), err.read().decode(errors="replace")
        )


def sh(cmd):
    return ["sh", "-c", cmd]


class Tool:
    def __init__(self, name, argv, check=None, env=None):
        self.name, self.argv, self.check, self.env = name, argv, check, env
        self.samples = []

    def med(self, attr):
        return statistics.median(getattr(s, attr) for s in self.samples)


def by(tools, name):
    """The tool of `tools` called `name`."""
    return next(t for t in tools if t.name == name)


def expect_count(n):
    def check(out):
        if str(n) not in out.replace("count=", ""):
            raise RuntimeError(f"expected {n} records, got {out.strip()!r}")

    return check


def measure(case, tools, runs):
    log(f"== {case}")
    for i in range(runs):
        for t in tools:
            s = run(t.argv, t.env)
            if t.check:
                t.check(s.stdout)
            t.samples.append(s)
            log(f"   run {i + 1}/{runs} {t.name:<24} {s.wall:7.3f} s wall {s.cpu:7.3f} s cpu {s.rss_kb / 1024:8.1f} MiB")
    return tools


def version(argv, pattern=None):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        text = (out.stdout or out.stderr).strip().splitlines()[0]
        if pattern:
            m = re.search(pattern, text)
            text = m.group(0) if m else text
        return text
    except Exception as e:  # a missing tool is reported, not fatal here
        return f"unknown ({e})"


def machine():
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, AttributeError):
        pass
    py_iter = subprocess.run(
        [str(PYTHON), "-c", "import iterable; print(iterable.__version__)"], capture_output=True, text=True
    ).stdout.strip()
    return {
        "CPU": model,
        "cores": str(os.cpu_count()),
        "memory": mem,
        "kernel": platform.release(),
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "rustc": version(["rustc", "--version"]),
        "iterable-host": version([str(HOST), "--version"]),
        "Miller": version(["mlr", "--version"]),
        "Python IterableData": f"{py_iter} ({version([str(PYTHON), '--version'])})",
        "zstd": version(["zstd", "--version"], r"v[\d.]+"),
        "gzip": version(["gzip", "--version"]),
    }


def require(paths, flag):
    """Exits with the command that builds them when any of `paths` is missing."""
    for p in paths:
        if not p.exists():
            sys.exit(f"missing {p}: run scripts/bench.sh {flag}")


def fresh_plugins(parent, libraries):
    """`parent`/plugins, emptied, with `libraries` installed; the host's
    arguments that use it."""
    parent.mkdir(parents=True, exist_ok=True)
    plugins = parent / "plugins"
    shutil.rmtree(plugins, ignore_errors=True)
    for lib in libraries:
        run([str(HOST), "install", str(lib), "--dir", str(plugins)], rss=False)
    return [str(HOST), "--plugin-dir", str(plugins)]


def prepare(rows):
    """Generates the data set (once per row count) and installs the plugins."""
    DATA.mkdir(parents=True, exist_ok=True)
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = DATA / "stamp"
    want = f"rows={rows} seed={SEED}\n"
    csv, gz, zst = DATA / "rows.csv", DATA / "rows.csv.gz", DATA / "rows.jsonl.zst"
    if not (stamp.exists() and stamp.read_text() == want and csv.exists() and gz.exists() and zst.exists()):
        log(f"== generating {rows} rows (seed {SEED})")
        with open(csv, "wb") as f:
            subprocess.run([str(GEN), str(rows), str(SEED)], stdout=f, check=True)
        with open(gz, "wb") as f:
            subprocess.run(["gzip", "-6", "-c", str(csv)], stdout=f, check=True)
        subprocess.run([str(HOST), "--no-plugins", "convert", str(gz), str(zst)], check=True)
        with open(DATA / "small.csv", "wb") as f:
            with open(csv, "rb") as src:
                for _, line in zip(range(1001), src):
                    f.write(line)
        stamp.write_text(want)
    for name in ("rows", "small"):
        for ext in ("csvp", "ccsv"):
            link = DATA / f"{name}.{ext}"
            link.unlink(missing_ok=True)
            os.link(DATA / f"{name}.csv", link)
    # One plugin directory with the benchmark plugin...
    plugins = BENCH / "plugins"
    shutil.rmtree(plugins, ignore_errors=True)
    (plugins / "corecsv").mkdir(parents=True)
    shutil.copy(MANIFEST, plugins / "corecsv" / "plugin.toml")
    os.link(PLUGIN_SO, plugins / "corecsv" / PLUGIN_SO.name)
    # The C plugin lies there as it is: recognised by its entry symbol.
    shutil.copy(CCSV_SO, plugins / CCSV_SO.name)
    # ...and one with a thousand of them (hard links of the same library).
    many = BENCH / "many"
    shutil.rmtree(many, ignore_errors=True)
    text = MANIFEST.read_text()
    for i in range(1, MANY + 1):
        d = many / f"p{i:04}"
        d.mkdir(parents=True)
        m = text.replace('name = "corecsv"', f'name = "p{i:04}"')
        m = m.replace('id = "csvp"', f'id = "csvp{i:04}"').replace('["csvp"]', f'["csvp{i:04}"]')
        (d / "plugin.toml").write_text(m)
        os.link(PLUGIN_SO, d / PLUGIN_SO.name)
    # ...the same thousand, each directory holding a symbolic link to the
    # library instead of a hard link...
    linked = BENCH / "many-symlinks"
    shutil.rmtree(linked, ignore_errors=True)
    for d in sorted(many.iterdir()):
        (linked / d.name).mkdir(parents=True)
        shutil.copy(d / "plugin.toml", linked / d.name / "plugin.toml")
        (linked / d.name / PLUGIN_SO.name).symlink_to(PLUGIN_SO)
    # ...and the previous release's build of the benchmark plugin, with its
    # own manifest, for its host.
    prev_plugins = BENCH / "plugins-1.0"
    shutil.rmtree(prev_plugins, ignore_errors=True)
    if PREV_PLUGIN_SO.exists():
        (prev_plugins / "corecsv").mkdir(parents=True)
        shutil.copy(PREV_MANIFEST, prev_plugins / "corecsv" / "plugin.toml")
        shutil.copy(PREV_PLUGIN_SO, prev_plugins / "corecsv" / PLUGIN_SO.name)
        # git archive's files can be group-writable, which the host refuses.
        (prev_plugins / "corecsv" / "plugin.toml").chmod(0o644)
    sizes = {p.name: p.stat().st_size for p in (csv, gz, zst)}
    return sizes, plugins, many, linked, prev_plugins


def fmt_time(s):
    return f"{s * 1000:.0f} ms" if s < 1 else f"{s:.2f} s"


def fmt_ratio(a, b):
    return f"{a / b:.2f}×" if b else "n/a"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="runs of every tool in every case (default 5)")
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows in the data set (default 1,000,000)")
    ap.add_argument("--samples", type=int, default=21, help="samples for list-plugins and first use (default 21)")
    ap.add_argument("--no-doc", action="store_true", help="do not update docs/performance.md")
    args = ap.parse_args()

    for p in (HOST, GEN, FIRST_USE, PLUGIN_SO, PYTHON, Path(TIME)):
        if not p.exists():
            sys.exit(f"missing {p}: run scripts/bench.sh, which builds and installs everything")
    # Keep every tool away from the user's configuration, plugins and caches.
    env = dict(os.environ)
    env["ITERABLEDATA_HOME"] = str(BENCH / "home")
    env["XDG_CACHE_HOME"] = str(BENCH / "cache")
    env.pop("ITERABLEDATA_PLUGIN_PATH", None)
    env.pop("ITERABLEDATA_NO_PLUGINS", None)
    os.environ.clear()
    os.environ.update(env)

    info = machine()
    sizes, plugins, many, linked, prev_plugins = prepare(args.rows)
    prev = PREV_HOST.exists() and PREV_PLUGIN_SO.exists()
    P = str(PREV_HOST)
    if not prev:
        log("   (the previous release is not built: it is left out; scripts/bench.sh builds it)")
    csv, gz, zst = DATA / "rows.csv", DATA / "rows.csv.gz", DATA / "rows.jsonl.zst"
    H, PY = str(HOST), str(PYTHON)
    n = args.rows
    runs = args.runs

    count = measure(
        "1. count rows.csv.gz",
        [
            Tool("iterable-host", [H, "count", str(gz)], expect_count(n)),
            *([Tool("iterable-host 1.0", [P, "count", str(gz)], expect_count(n))] if prev else []),
            Tool("Miller", ["mlr", "--icsv", "--gzin", "count", str(gz)], expect_count(n)),
            Tool("Python IterableData", [PY, "-c", PY_COUNT, str(gz)], expect_count(n)),
        ],
        runs,
    )
    to_json = measure(
        "2. convert rows.csv.gz -> rows.jsonl.zst",
        [
            Tool("iterable-host", [H, "convert", str(gz), str(OUT / "host.jsonl.zst")]),
            *([Tool("iterable-host 1.0", [P, "convert", str(gz), str(OUT / "prev.jsonl.zst")])] if prev else []),
            Tool(
                "Miller",
                sh(f"mlr --icsv --ojsonl --gzin cat '{gz}' | zstd -3 -q -f -o '{OUT / 'mlr.jsonl.zst'}'"),
            ),
            Tool("Python IterableData", [PY, "-c", PY_CONVERT, str(gz), str(OUT / "py.jsonl.zst")]),
        ],
        runs,
    )
    to_csv = measure(
        "3. convert rows.jsonl.zst -> rows.csv.gz",
        [
            Tool("iterable-host", [H, "convert", str(zst), str(OUT / "host.csv.gz")]),
            Tool("Miller", sh(f"zstd -dc '{zst}' | mlr --ijsonl --ocsv cat | gzip -6 > '{OUT / 'mlr.csv.gz'}'")),
            Tool("Python IterableData", [PY, "-c", PY_CONVERT, str(zst), str(OUT / "py.csv.gz")]),
        ],
        runs,
    )
    # Every output holds every record.
    for out in ("host.jsonl.zst", "mlr.jsonl.zst", "py.jsonl.zst", "host.csv.gz", "mlr.csv.gz", "py.csv.gz"):
        expect_count(n)(run([H, "--no-plugins", "count", str(OUT / out)]).stdout)

    pd = ["--plugin-dir", str(plugins)]
    boundary = measure(
        "4. count rows.csv (built-in csv), rows.csvp (the same bytes, Rust plugin csvp) and rows.ccsv (C plugin, Arrow)",
        [
            Tool("built-in csv", [H, *pd, "count", str(csv)], expect_count(n)),
            Tool("plugin csvp", [H, *pd, "count", str(DATA / "rows.csvp")], expect_count(n)),
            Tool("C plugin ccsv (Arrow)", [H, *pd, "count", str(DATA / "rows.ccsv")], expect_count(n)),
            *(
                [
                    Tool("1.0: built-in csv", [P, "--plugin-dir", str(prev_plugins), "count", str(csv)], expect_count(n)),
                    Tool(
                        "1.0: plugin csvp",
                        [P, "--plugin-dir", str(prev_plugins), "count", str(DATA / "rows.csvp")],
                        expect_count(n),
                    ),
                ]
                if prev
                else []
            ),
        ],
        runs,
    )

    log(f"== 5. list-plugins with {MANY} plugins")
    listing = Tool("list-plugins", [H, "--plugin-dir", str(many), "list-plugins"])
    for _ in range(args.samples):
        listing.samples.append(run(listing.argv, rss=False))
    lines = listing.samples[0].stdout.count("available")
    dbg = subprocess.run(
        [H, "--plugin-dir", str(many), "list-plugins"], env={**env, "LD_DEBUG": "files"}, capture_output=True, text=True
    )
    loaded = sorted(set(re.findall(r"file=(\S*libiterable_bench_corecsv\S*)", dbg.stderr)))
    log(f"   median {fmt_time(listing.med('wall'))}, {lines} available, libraries loaded: {loaded or 'none'}")
    # The same thousand with symbolic links, and the previous release on
    # both, in turn, sample after sample.
    more = [Tool("this release, symlinked libraries", [H, "--plugin-dir", str(linked), "list-plugins"])]
    if prev:
        more += [
            Tool("1.0, hard-linked libraries", [P, "--plugin-dir", str(many), "list-plugins"]),
            Tool("1.0, symlinked libraries", [P, "--plugin-dir", str(linked), "list-plugins"]),
        ]
    for _ in range(args.samples):
        for t in more:
            t.samples.append(run(t.argv, rss=False))
    for t in more:
        log(f"   {t.name}: median {fmt_time(t.med('wall'))}")

    log("== 6. first use of a plugin (fresh process per sample)")
    first, builtin_first = [], []
    for _ in range(args.samples):
        first.append(json.loads(run([str(FIRST_USE), str(plugins), str(DATA / "small.csvp")], rss=False).stdout))
        builtin_first.append(
            json.loads(run([str(FIRST_USE), str(plugins), str(DATA / "small.csv")], rss=False).stdout)
        )
    first_us = statistics.median(x["first_record_us"] for x in first)
    build_us = statistics.median(x["build_us"] for x in first)
    builtin_us = statistics.median(x["first_record_us"] for x in builtin_first)
    log(f"   plugin {first_us:.0f} µs (host build {build_us:.0f} µs); built-in csv {builtin_us:.0f} µs")

    # ------------------------------------------------------------------ report
    rows_md = []
    for case, tools in (
        ("1. count rows.csv.gz", count),
        ("2. rows.csv.gz → rows.jsonl.zst", to_json),
        ("3. rows.jsonl.zst → rows.csv.gz", to_csv),
    ):
        mlr, py = by(tools, "Miller"), by(tools, "Python IterableData")
        for t in tools:
            rows_md.append(
                f"| {case} | {t.name} | {fmt_time(t.med('wall'))} | {fmt_time(t.med('cpu'))} "
                f"| {max(s.rss_kb for s in t.samples) / 1024:.1f} MiB "
                f"| {fmt_ratio(t.med('wall'), mlr.med('wall'))} | {fmt_ratio(t.med('wall'), py.med('wall'))} "
                f"| {fmt_ratio(t.med('cpu'), mlr.med('cpu'))} | {fmt_ratio(t.med('cpu'), py.med('cpu'))} |"
            )
    b_csv, b_plug, b_c = boundary[0], boundary[1], boundary[2]
    boundary_md = [
        f"| {t.name} | {fmt_time(t.med('wall'))} | {fmt_time(t.med('cpu'))} | {max(s.rss_kb for s in t.samples) / 1024:.1f} MiB |"
        for t in boundary
    ]
    host_rss = max(
        max(s.rss_kb for s in t.samples) for t in (count[0], to_json[0], to_csv[0], b_csv, b_plug)
    ) / 1024
    r = lambda t, u: t.med("wall") / u.med("wall")  # noqa: E731
    j_mlr, j_py, c_mlr = by(to_json, "Miller"), by(to_json, "Python IterableData"), by(count, "Miller")
    goals = [
        ("convert csv.gz → jsonl.zst, wall vs Miller", "≤ 0.22×", f"{r(to_json[0], j_mlr):.3f}×", r(to_json[0], j_mlr) <= 0.22),
        ("convert csv.gz → jsonl.zst, wall vs Python IterableData", "≤ 0.07×", f"{r(to_json[0], j_py):.3f}×", r(to_json[0], j_py) <= 0.07),
        ("count csv.gz, wall vs Miller", "≤ 0.5×", f"{r(count[0], c_mlr):.3f}×", r(count[0], c_mlr) <= 0.5),
        ("peak RSS of iterable-host, every case", "≤ 32 MiB", f"{host_rss:.1f} MiB", host_rss <= 32),
        ("reading through the plugin boundary, wall vs built-in", "≤ 1.10×", f"{r(b_plug, b_csv):.3f}× (CPU {b_plug.med('cpu') / b_csv.med('cpu'):.2f}×)", r(b_plug, b_csv) <= 1.10),
        ("reading through the C ABI as Arrow, wall vs built-in", "≤ 1.2×", f"{r(b_c, b_csv):.3f}× (CPU {b_c.med('cpu') / b_csv.med('cpu'):.2f}×)", r(b_c, b_csv) <= 1.2),
        (f"list-plugins with {MANY} plugins", "≤ 30 ms, no library loaded", f"{listing.med('wall') * 1000:.1f} ms, {'no library loaded' if not loaded else f'{len(loaded)} loaded'}", listing.med("wall") <= 0.030 and not loaded),
        (f"list-plugins with {MANY} plugins, libraries symlinked", "≤ 30 ms", f"{more[0].med('wall') * 1000:.1f} ms", more[0].med("wall") <= 0.030),
        ("first use of a plugin (open + first record)", "≤ 1 ms", f"{first_us:.0f} µs", first_us <= 1000),
    ]
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    md = [
        f"Measured {now} with `scripts/bench.sh --runs {runs}` ({n:,} rows; medians of {runs} runs; "
        f"rows.csv {sizes['rows.csv'] / 1e6:.1f} MB, rows.csv.gz {sizes['rows.csv.gz'] / 1e6:.1f} MB, "
        f"rows.jsonl.zst {sizes['rows.jsonl.zst'] / 1e6:.1f} MB).",
        "",
        "| Goal | Target | Measured | Met |",
        "|---|---|---|---|",
        *[f"| {g} | {t} | {m} | {'yes' if ok else '**no**'} |" for g, t, m, ok in goals],
        "",
        "| Case | Tool | Wall | CPU (user+sys) | Peak RSS | wall vs Miller | wall vs Python "
        "| CPU vs Miller | CPU vs Python |",
        "|---|---|---|---|---|---|---|---|---|",
        *rows_md,
        "",
        f"Plugin boundary (case 4): `count` of the same {n:,}-row CSV file, uncompressed, through the "
        "built-in `csv`, through the Rust plugin `csvp` (tests/bench/corecsv: the core's CSV reader in a plugin) "
        "and through the C plugin `ccsv` (tests/bench/ccsv: CSV parsed in C, handed over as Arrow batches):",
        "",
        "| Reader | Wall | CPU (user+sys) | Peak RSS |",
        "|---|---|---|---|",
        *boundary_md,
        "",
        f"Plugin host: `list-plugins` with {MANY} installed plugins (manifest + library each): "
        f"median {listing.med('wall') * 1000:.1f} ms over {args.samples} runs, "
        f"libraries loaded (`LD_DEBUG=files`): {', '.join(loaded) if loaded else 'none'}. "
        f"First use of a plugin (open + first record, fresh process, median of {args.samples}): "
        f"{first_us:.0f} µs (the same through the built-in csv: {builtin_us:.0f} µs; building the host, "
        f"manifest read included: {build_us:.0f} µs).",
        "",
        "| list-plugins, " + f"{MANY} plugins | Wall (median of {args.samples}) |",
        "|---|---|",
        f"| this release, hard-linked libraries | {listing.med('wall') * 1000:.1f} ms |",
        *[f"| {t.name} | {t.med('wall') * 1000:.1f} ms |" for t in more],
        "",
        "Machine:",
        "",
        *[f"- {k}: {v}" for k, v in info.items()],
    ]
    report = "\n".join(md)
    print(report)
    if not args.no_doc:
        write_doc("bench", report)


def write_doc(marker, report):
    """Puts `report` between `<!-- MARKER:begin -->` and `<!-- MARKER:end -->`
    in docs/performance.md."""
    text = DOC.read_text() if DOC.exists() else ""
    begin, end = f"<!-- {marker}:begin -->", f"<!-- {marker}:end -->"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        DOC.write_text(f"{head}{begin}\n{report}\n{end}{tail}")
        log(f"== results written to {DOC.relative_to(ROOT)}")
    else:
        log(f"== {DOC.relative_to(ROOT)} has no {marker} markers; results not written")


if __name__ == "__main__":
    main()
