#!/usr/bin/env bash
# Runs every test of the project, installing what the tests need first (idempotent), so it
# works on a fresh machine with rustup and python3. CI runs exactly this (see .ci/run).
#
#   scripts/test.sh                          every step, in order
#   TEST_STEPS='deploy|template' scripts/test.sh
#                                            only the steps whose name matches the (bash) regex
#   scripts/test.sh --list                   the step names, in order
#
# Every step runs, even after one has failed. Each step's whole output goes to
# target/test-logs/NN-NAME.log (TEST_LOGS=DIR to put them elsewhere); the terminal gets one
# line per step as it ends (ok or FAIL, the name, the seconds it took), the last 60 lines of
# the log of a step that failed, and at the end the failed steps' names and the verdict:
#
#   failed: soak fuzz-smoke
#   steps: 9 passed, 2 failed
#
# The exit status is 1 when any step failed, 2 when TEST_STEPS matches no step.
#
# Adding a step: one line at the bottom, `step NAME -- COMMAND...`. A step of several
# commands is a function defined above the list; it runs under `set -euo pipefail`, so it
# stops at its first failing command.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/lib-install.sh

LOGS="${TEST_LOGS:-target/test-logs}"
TAIL_LINES=60
list_only=0
case "${1:-}" in
    "") ;;
    --list) list_only=1 ;;
    *) echo "usage: scripts/test.sh [--list]   (TEST_STEPS=REGEX selects steps)" >&2; exit 2 ;;
esac

# What git sees before the first step: the last step checks the others left the checkout so.
checkout_before="$(git status --porcelain --untracked-files=all 2>/dev/null)"

# --- the step runner ----------------------------------------------------------------------------
number=0
passed=()
failed=()

step() { # step NAME -- COMMAND...
    local name="$1"
    if [[ "${2:-}" != -- || $# -lt 3 ]]; then
        echo "test.sh: write a step as: step NAME -- COMMAND... (got: step $*)" >&2
        exit 2
    fi
    shift 2
    number=$((number + 1))
    if ((list_only)); then echo "$name"; return; fi
    if [[ -n "${TEST_STEPS:-}" && ! "$name" =~ $TEST_STEPS ]]; then return; fi

    local log started rc took
    log="$(printf '%s/%02d-%s.log' "$LOGS" "$number" "$name")"
    [[ -t 1 ]] && printf '..    %s (log: %s)' "$name" "$log"
    started=$SECONDS
    # Not in an `if` or `||`: those would switch errexit off inside the subshell.
    (set -euo pipefail; "$@") </dev/null >"$log" 2>&1
    rc=$?
    took=$((SECONDS - started))
    [[ -t 1 ]] && printf '\r\033[K'
    if ((rc == 0)); then
        printf 'ok    %-14s %5ds\n' "$name" "$took"
        passed+=("$name")
    else
        printf 'FAIL  %-14s %5ds  (exit %d; whole log: %s)\n' "$name" "$took" "$rc" "$log"
        tail -n "$TAIL_LINES" "$log" | sed 's/^/    | /'
        failed+=("$name")
    fi
}

# --- the steps that are more than one command ------------------------------------------------------
unit_tests() {
    cargo test --workspace --locked
    cargo test --locked -p lambda-blocking-rt --features float_roundtrip
}

# The minimum Rust version each crate a user compiles states (rust-version in its manifest) builds
# it, every feature on: the runtime and extension libraries, and the build tool. rustup installs
# the version (minimal profile) when it is missing.
msrv() {
    local package version
    for package in lambda-blocking-rt lambda-blocking-ext cargo-lambda-zip; do
        version=$(cargo metadata --no-deps --format-version 1 --locked | python3 -c "
import json, sys
print(next(p['rust_version'] for p in json.load(sys.stdin)['packages'] if p['name'] == '$package'))")
        echo "$package: rust-version $version"
        rustup toolchain install "$version" --profile minimal --no-self-update 2>&1 | tail -1
        CARGO_TARGET_DIR=target/msrv cargo "+$version" check --locked --all-features -p "$package"
    done
}

# The integration tests against the arm64 per-function bootstraps under qemu: handlers, errors,
# faults, logging, transport, shutdown, concurrency, invocation ids, streaming, web, and the
# invocation-summary extension's arm64 build. Each
# per-function binary holds one handler; the tests that need the all-handlers binary (the list
# of names, the context handler's trace-id checks), a user binary built for the host, or an
# hour of emulated waiting are left to the native run.
arm64_under_qemu() {
    ensure_commands qemu-aarch64-static:qemu-user-static
    BOOTSTRAP_FUNCTIONS="$PWD/target/lambda/arm64" BOOTSTRAP_RUNNER=qemu-aarch64-static \
        EXTENSION_BINARIES="$PWD/target/lambda/arm64" \
        cargo test --locked -p lambda-blocking-rt-tests \
        --test handlers --test errors --test faults --test logging --test transport --test shutdown \
        --test concurrency --test invocation_id --test streaming --test web --test extension -- \
        --skip context --skip hello --skip event_that_does_not_deserialize \
        --skip unknown_handler_is_an_init_error_listing --skip next_held_for_70_seconds --skip handler_can_ask
}

# The same integration tests against the x86_64 per-function bootstraps built with --tiny
# (nightly, std built with the binary, no backtrace symbolizer): they still answer, and still
# catch and report a handler's panic with its message and location.
tiny_x86_64() {
    scripts/build.sh --arch x86_64 --tiny --out-dir "$PWD/target/lambda-tiny"
    BOOTSTRAP_FUNCTIONS="$PWD/target/lambda-tiny/x86_64" \
        cargo test --locked -p lambda-blocking-rt-tests \
        --test handlers --test errors --test faults --test logging --test transport --test shutdown \
        --test concurrency --test invocation_id --test streaming -- \
        --skip context --skip hello --skip event_that_does_not_deserialize \
        --skip unknown_handler_is_an_init_error_listing --skip next_held_for_70_seconds --skip handler_can_ask
}

# Crates that compile C (tests/native-crates: rustls on ring, a bundled SQLite, zstd, a vendored
# OpenSSL, mimalloc), built by cargo lambda-zip for both arches (it installs zig on first need),
# each binary run against the fake Runtime API: x86_64 natively, arm64 under qemu.
#
# Both steps build in one target dir, target/c-deps: what the two crates share (the runtime, ring,
# rustls, serde, the build scripts' own dependencies) is compiled once.
C_DEPS_TARGET="$PWD/target/c-deps"
lambda_zip_in_c_deps() { # the tool from this checkout (built in target/), building in target/c-deps
    cargo build --quiet --locked -p cargo-lambda-zip
    local tool="${CARGO_TARGET_DIR:-target}/debug/cargo-lambda-zip"
    CARGO_TARGET_DIR="$C_DEPS_TARGET" "$tool" "$@"
}
native_crates() {
    ensure_commands qemu-aarch64-static:qemu-user-static
    lambda_zip_in_c_deps --manifest-path tests/native-crates/Cargo.toml --locked
    local arch
    for arch in x86_64 arm64; do
        NATIVE_LAMBDA_DIR="$C_DEPS_TARGET/lambda" NATIVE_ARCH="$arch" \
            cargo test --locked -p lambda-blocking-rt-tests --test native_crates -- --ignored
    done
}

# examples/dynamodb (the AWS SDK with its default features): its unit tests, its zips for both
# arches, and each binary's round trip against moto's DynamoDB on loopback.
dynamodb_example() {
    source scripts/lib-venv.sh
    ensure_venv 'moto[server]'
    ensure_commands qemu-aarch64-static:qemu-user-static
    cargo test --manifest-path examples/dynamodb/Cargo.toml --locked
    lambda_zip_in_c_deps --manifest-path examples/dynamodb/Cargo.toml --locked
    local arch
    for arch in x86_64 arm64; do
        DYNAMODB_LAMBDA_DIR="$C_DEPS_TARGET/lambda" DYNAMODB_ARCH="$arch" \
            MOTO_SERVER="$VENV/bin/moto_server" \
            cargo test --locked -p lambda-blocking-rt-tests --test dynamodb -- --ignored
    done
}

checkout_unchanged() {
    local now
    now="$(git status --porcelain --untracked-files=all)"
    if [[ "$now" != "$checkout_before" ]]; then
        echo "the steps changed the checkout (git status --porcelain: before < > after):"
        diff <(echo "$checkout_before") <(echo "$now")
        return 1
    fi
    echo "git status --porcelain is as before the first step"
}

# --- the steps, in order ------------------------------------------------------------------------
if ((!list_only)); then
    mkdir -p "$LOGS"
    if [[ -n "${TEST_STEPS:-}" ]]; then
        echo "logs: $LOGS/ (only the steps TEST_STEPS=\"$TEST_STEPS\" matches)"
    else
        echo "logs: $LOGS/"
    fi
fi

# unit, doc and end-to-end tests (the real bootstrap against the fake Runtime API)
step unit -- unit_tests
# the stated minimum Rust versions
step msrv -- msrv
# every function as a static zip for x86_64 and arm64
step build -- scripts/build.sh
# the integration tests against the arm64 bootstraps under qemu-user-static (web included)
step arm64-qemu -- arm64_under_qemu
# the integration tests against the x86_64 bootstraps built with --tiny (nightly)
step tiny -- tiny_x86_64
# a user's own function: a cargo new crate with the example's code and the README's main.rs,
# built by build.sh --manifest-path, run on x86_64 and on arm64 under qemu
step user-function -- scripts/test-user-function.sh
# crates with C code: static zips for both arches, each binary run (x86_64, arm64 under qemu)
step native-crates -- native_crates
# examples/dynamodb against moto's DynamoDB on loopback, both arches
step dynamodb-example -- dynamodb_example
# 100 000 invocations in one process, RSS and descriptors flat (release, 10 min budget)
step soak -- timeout 600 cargo test --release --locked -p lambda-blocking-rt-tests --test soak -- --ignored
# every cargo-fuzz target for a few seconds from its committed corpus (nightly)
step fuzz-smoke -- env FUZZ_SECONDS="${FUZZ_SECONDS:-10}" scripts/fuzz-smoke.sh
# deploy.sh against moto on loopback: create, then update; bad input stops before any AWS call
step deploy -- scripts/test-deploy.sh
# template.yaml and the README's SAM snippet validated by cfn-lint
step template -- scripts/test-template.sh
# coldstart-aws.sh: REPORT-line parsing and argument errors (no AWS)
step coldstart-aws -- scripts/test-coldstart.sh
# cargo lambda watch + invoke on echo and fibonacci, cargo lambda build
step cargo-lambda -- scripts/test-cargo-lambda.sh
# cargo lambda watch streams a function URL response of this runtime as it is written
step cargo-lambda-stream -- scripts/test-cargo-lambda-stream.sh
# curl through cargo lambda watch's function URL to the web function, buffered and streamed
step cargo-lambda-web -- scripts/test-cargo-lambda-web.sh
# the benchmark harness, quick: the three bootstraps side by side, every answer checked
step bench-quick -- cargo run --locked --release -p coldstart -- --quick
# concurrency benchmark, quick: N = 1, 8, 64 against run_concurrent, every answer checked
step bench-concurrency-quick -- cargo run --locked --release -p coldstart -- concurrency --quick
# nothing above wrote into the tracked tree or left files git would pick up
step clean-checkout -- checkout_unchanged

# --- the verdict ----------------------------------------------------------------------------------
((list_only)) && exit 0
if ((${#passed[@]} + ${#failed[@]} == 0)); then
    echo "test.sh: TEST_STEPS='${TEST_STEPS:-}' matches no step; the steps are: $("$0" --list | tr '\n' ' ')" >&2
    exit 2
fi
echo
if ((${#failed[@]} > 0)); then
    echo "failed: ${failed[*]}"
else
    echo "failed: none"
fi
echo "steps: ${#passed[@]} passed, ${#failed[@]} failed"
((${#failed[@]} == 0))
