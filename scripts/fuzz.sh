#!/usr/bin/env bash
# Fuzzes the readers, codecs, manifest parser and batch conversion.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 60)
#
# Builds the cargo-fuzz project in tests/fuzz (installing cargo-fuzz if it
# is missing), runs each target for the given time, starting from the seeds
# in tests/fuzz/seeds/<target> plus what earlier runs kept in
# tests/fuzz/corpus/<target>, and fails if any target finds a crash. A
# crashing input is saved under tests/fuzz/artifacts/<target>/; replay it
# with: RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir tests/fuzz TARGET FILE
#
# cargo-fuzz passes -Z flags to rustc (sanitizer, coverage); on a stable
# toolchain RUSTC_BOOTSTRAP=1 allows them, and on nightly it is harmless.
set -euo pipefail
cd "$(dirname "$0")/.."

secs="${1:-60}"
case "$secs" in
  '' | *[!0-9]*) echo "usage: $0 [SECONDS_PER_TARGET]" >&2; exit 2 ;;
esac
targets=(csv jsonl json gzip zstd manifest batch parquet xlsx xml)
export RUSTC_BOOTSTRAP=1
fuzz_dir=tests/fuzz
export LSAN_OPTIONS="suppressions=$PWD/$fuzz_dir/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

start=$SECONDS
echo "== building the fuzz targets"
cargo fuzz build --fuzz-dir "$fuzz_dir"
echo "== built in $((SECONDS - start)) s"

failed=()
for t in "${targets[@]}"; do
  echo "== fuzzing $t for ${secs} s"
  mkdir -p "$fuzz_dir/corpus/$t"
  # -timeout: one input running longer than this counts as a finding (a hang).
  if ! cargo fuzz run --fuzz-dir "$fuzz_dir" "$t" "$fuzz_dir/corpus/$t" "$fuzz_dir/seeds/$t" -- \
    -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1; then
    failed+=("$t")
  fi
done

echo "== total $((SECONDS - start)) s"
if ((${#failed[@]})); then
  echo "fuzz: crashes found in: ${failed[*]} (inputs in $fuzz_dir/artifacts/)" >&2
  exit 1
fi
echo "fuzz: no crashes in ${#targets[@]} targets"
