#!/usr/bin/env bash
# The C ABI tests (tests/cabi.rs) with the C plugins built with
# AddressSanitizer: a plugin's use of memory the host lent it (run info,
# options, byte sources, Arrow arrays) after the host freed it is reported
# and fails the run. The host is not instrumented; the sanitizer's runtime
# is preloaded into the test and every iterable-host process it starts
# (runners of isolated plugins included), so it sees the host's frees too.
set -euo pipefail
cd "$(dirname "$0")/.."

cc_bin="${CC:-cc}"
runtime=$("$cc_bin" -print-file-name=libasan.so)
if [ ! -e "$runtime" ]; then
  echo "error: the C compiler ($cc_bin) has no AddressSanitizer runtime (libasan.so)" >&2
  exit 1
fi

export IDP_SANITIZE=address
# Only the C plugins change (they are built in a folder of their own);
# the Rust test binaries that name them are relinked.
cargo test -p iterable-host-cli --test cabi --no-run
bin=$(cargo test -p iterable-host-cli --test cabi --no-run --message-format=json 2>/dev/null |
  python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("target", {}).get("name") == "cabi" and m.get("executable"):
        print(m["executable"])')
[ -n "$bin" ] || { echo "error: cannot find the cabi test binary" >&2; exit 1; }

# Leaks are not this run's business (plugins loaded for good, a C plugin
# that leaks on purpose); any other report fails the test that caused it,
# with exit status 86.
export ASAN_OPTIONS="detect_leaks=0:exitcode=86:abort_on_error=0:verify_asan_link_order=0"
echo "== AddressSanitizer: tests/cabi.rs with the C plugins instrumented"
cd iterable-host/cli
LD_PRELOAD="$runtime" "$bin" --test-threads 2
