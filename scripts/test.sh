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

step "deploy.sh against moto on loopback: create, then update; bad input stops before any AWS call"
scripts/test-deploy.sh

step "SAM template.yaml validated by cfn-lint"
scripts/test-template.sh

step "coldstart-aws.sh: REPORT-line parsing and argument errors (no AWS)"
scripts/test-coldstart.sh

step "cargo lambda watch + invoke on echo and fibonacci, cargo lambda build"
scripts/test-cargo-lambda.sh
