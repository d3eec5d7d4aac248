#!/usr/bin/env bash
# Runs every check CI runs: formatting, lints, and all tests of the workspace
# (unit, integration, end-to-end and doc tests). Installs what tests need.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

echo "== cargo test"
cargo test --workspace --no-fail-fast
