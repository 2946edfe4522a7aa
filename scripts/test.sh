#!/usr/bin/env bash
# Runs every test of the project, installing what the tests need first (idempotent), so it
# works on a fresh machine with only rustup. CI runs exactly this (see .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "unit, doc and end-to-end tests (the real bootstrap against the fake Runtime API)"
cargo test --workspace --locked
cargo test --locked -p lambda-blocking-rt --features float_roundtrip

step "build: scripts/build.sh, every function as a static zip for x86_64 and arm64"
scripts/build.sh

step "build checks: usage errors, zip layout, static ELF per arch, byte-identical rebuild (echo)"
scripts/test-build.sh --function echo

step "arm64: the integration tests against the arm64 echo, error, panic and fibonacci bootstraps under qemu"
if ! command -v qemu-aarch64-static >/dev/null; then
    apt-get update -qq && apt-get install -y -qq qemu-user-static
fi
# Each per-function binary holds one handler; the tests that need another handler (context,
# hello, the full list of names) or an hour of emulated waiting are left to the native run.
BOOTSTRAP_FUNCTIONS="$PWD/target/lambda/arm64" BOOTSTRAP_RUNNER=qemu-aarch64-static \
    cargo test --locked -p lambda-blocking-rt-tests \
    --test handlers --test errors --test faults --test logging --test transport --test shutdown -- \
    --skip context --skip hello --skip event_that_does_not_deserialize \
    --skip unknown_handler_is_an_init_error_listing --skip next_held_for_70_seconds --skip handler_can_ask

step "soak: 100 000 invocations in one process, RSS and descriptors flat (release, 10 min budget)"
timeout 600 cargo test --release --locked -p lambda-blocking-rt-tests --test soak -- --ignored

step "fuzz smoke: every cargo-fuzz target for a few seconds from its committed corpus (nightly)"
FUZZ_SECONDS="${FUZZ_SECONDS:-10}" scripts/fuzz-smoke.sh

step "deploy.sh against moto on loopback: create, then update; bad input stops before any AWS call"
scripts/test-deploy.sh

step "SAM template.yaml validated by cfn-lint"
scripts/test-template.sh

step "coldstart-aws.sh: REPORT-line parsing and argument errors (no AWS)"
scripts/test-coldstart.sh

step "cargo lambda watch + invoke on echo and fibonacci, cargo lambda build"
scripts/test-cargo-lambda.sh

step "benchmark harness, quick: the three bootstraps side by side, every answer checked"
cargo run --locked --release -p coldstart -- --quick
