#!/usr/bin/env bash
# The DataFusion engine plugin: builds it (plugins-examples/datafusion, a
# workspace of its own, outside the default build), starts a Ballista
# cluster on this machine (a scheduler and two executors on free loopback
# ports, built from the Ballista crates), runs tests/datafusion.rs against
# both, and stops the cluster.
#
#   scripts/datafusion.sh          build, test, stop
#   scripts/datafusion.sh build    only build (prints the library's path)
#
# Debug builds: DataFusion takes about 15 minutes the first time on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DF=plugins-examples/datafusion
OUT="$ROOT/$DF/target/debug"

echo "== building the datafusion plugin and ballista-node (debug, $DF/target)" >&2
(cd "$DF" && cargo build --features cluster --lib --bins >&2)
if [ "${1:-}" != "build" ]; then
  echo "== datafusion: cargo fmt --check, cargo clippy -D warnings" >&2
  (cd "$DF" && cargo fmt -- --check && cargo clippy --features cluster --all-targets -- -D warnings >&2)
fi
LIB="$OUT/libiterable_plugin_datafusion.so"
NODE="$OUT/ballista-node"
if [ "${1:-}" = "build" ]; then
  echo "$LIB"
  exit 0
fi

# A free loopback port.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

CLUSTER="$ROOT/target/datafusion/cluster"
rm -rf "$CLUSTER" && mkdir -p "$CLUSTER"
pids=()
stop() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT

SCHED=$(free_port)
"$NODE" scheduler "$SCHED" > "$CLUSTER/scheduler.log" 2>&1 &
pids+=($!)
for i in 1 2; do
  mkdir -p "$CLUSTER/executor$i"
  "$NODE" executor "$SCHED" "$(free_port)" "$(free_port)" "$CLUSTER/executor$i" \
    > "$CLUSTER/executor$i.log" 2>&1 &
  pids+=($!)
done
# The scheduler answers once it listens; the executors register within a
# few seconds of that.
for _ in $(seq 1 100); do
  (echo > "/dev/tcp/127.0.0.1/$SCHED") 2>/dev/null && break
  sleep 0.2
done
sleep 3
echo "== Ballista: a scheduler on 127.0.0.1:$SCHED and two executors (logs in $CLUSTER)" >&2

echo "== cargo test --test datafusion" >&2
ITERABLE_DATAFUSION="$LIB" ITERABLE_BALLISTA="df://127.0.0.1:$SCHED" ITERABLE_REQUIRE_DATAFUSION=1 \
  cargo test -p iterable-host-cli --test datafusion -- --test-threads 1
