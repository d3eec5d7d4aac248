#!/usr/bin/env bash
# The main job: build the workspace, then show a real conversion.
# Everything it writes stays under target/ (never the user's home).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --workspace
BIN=target/release/iterable-host
WORK=target/demo
rm -rf "$WORK" && mkdir -p "$WORK"

printf 'id,name,city\n1,Ann,"Oslo, NO"\n2,Bo,Riga\n3,Cé,Oslo\n' | gzip > "$WORK/rows.csv.gz"

echo "== iterable-host formats"
"$BIN" formats
echo "== iterable-host convert rows.csv.gz rows.jsonl.zst"
"$BIN" convert "$WORK/rows.csv.gz" "$WORK/rows.jsonl.zst"
echo "== iterable-host cat rows.jsonl.zst"
"$BIN" cat "$WORK/rows.jsonl.zst"
