#!/usr/bin/env bash
# Runs every test of the project, installing what the tests need first (idempotent), so it
# works on a fresh machine with only rustup. CI runs exactly this (see .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "unit, doc and end-to-end tests (the real bootstrap against the fake Runtime API)"
cargo test --workspace --locked

step "soak: 100 000 invocations in one process, RSS and descriptors flat (release, 10 min budget)"
timeout 600 cargo test --release --locked -p lambda-rt-tests --test soak -- --ignored

step "fuzz smoke: every cargo-fuzz target for a few seconds from its committed corpus (nightly)"
FUZZ_SECONDS="${FUZZ_SECONDS:-10}" scripts/fuzz-smoke.sh
