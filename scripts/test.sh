#!/usr/bin/env bash
# Runs every test of the project, installing what the tests need first (idempotent), so it
# works on a fresh machine with only rustup. CI runs exactly this (see .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "unit, doc and end-to-end tests (the real bootstrap against the fake Runtime API)"
cargo test --workspace --locked
