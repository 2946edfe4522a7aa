#!/usr/bin/env bash
# Checks that cargo-lambda's local emulator runs this workspace, and a user's crate, as they are:
# `cargo lambda watch` builds and serves the `bootstrap` binary on 127.0.0.1,
# and `cargo lambda invoke bootstrap` reaches the handler chosen by _HANDLER.
# One watch serves one _HANDLER (the env belongs to the watch), so the test
# runs a watch per handler. Everything stays on loopback; no AWS call.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

source scripts/lib-watch.sh

# invoke DESCRIPTION PAYLOAD EXPECTED-JSON [FUNCTION] [--data-file]: compares as JSON, not as
# text. FUNCTION is the binary (default bootstrap); with --data-file, PAYLOAD is a file.
invoke() {
    local what="$1" payload="$2" expected="$3" function="${4:-bootstrap}" data=--data-ascii out rc=0
    [[ ${5:-} == --data-file ]] && data=--data-file
    # The first invoke waits for watch's debug build.
    out="$(timeout 240 cargo lambda invoke -A 127.0.0.1 -P "$port" "$data" "$payload" "$function" 2>&1)" || rc=$?
    if [[ $rc == 0 ]] && python3 -c 'import json, sys; sys.exit(json.loads(sys.argv[1]) != json.loads(sys.argv[2]))' "$out" "$expected" 2>/dev/null; then
        ok "$what"
    else
        not_ok "$what: expected $expected, got (rc=$rc) $out"
    fi
}

if start_watch --env-var _HANDLER=fibonacci; then
    invoke "fibonacci: {\"n\":35} -> 9227465" '{"n":35}' '{"n":35,"result":9227465}'
    invoke "fibonacci: {\"n\":0} -> 0" '{"n":0}' '{"n":0,"result":0}'
else
    not_ok "cargo lambda watch starts (fibonacci)"
fi
stop_watch

if start_watch --env-var _HANDLER=echo; then
    payload='{"hello":"world","nested":{"list":[1,2,3]},"unicode":"h\u00e9"}'
    invoke "echo: returns the payload" "$payload" "$payload"
else
    not_ok "cargo lambda watch starts (echo)"
fi
stop_watch

# A user's crate as it is (examples/sqs-batch: its own workspace, the runtime as a dependency):
# `cargo lambda watch` in its folder serves each of its binaries by name, which is how a user
# runs their own function locally (README, "Run it locally").
cd examples/sqs-batch
if start_watch; then
    invoke "a user's crate, bin sqs: one bad message of three -> its id in batchItemFailures" \
        events/batch-one-bad.json '{"batchItemFailures":[{"itemIdentifier":"2e1424d4-f796-459a-8184-9c92662be6da"}]}' sqs --data-file
    invoke "a user's crate, bin raw: \"hello\" -> \"HELLO\"" '"hello"' '"HELLO"' raw
else
    not_ok "cargo lambda watch starts (examples/sqs-batch)"
fi
stop_watch
cd "$ROOT"

# A build as cargo lambda does it for a deploy, for this machine (x86_64),
# with plain cargo rather than cargo-zigbuild.
if nice cargo lambda build --release --compiler cargo >"$work/build.log" 2>&1 \
    && [[ -x target/lambda/bootstrap/bootstrap ]]; then
    ok "cargo lambda build --release --compiler cargo writes target/lambda/bootstrap/bootstrap"
else
    not_ok "cargo lambda build --release --compiler cargo:"; tail -20 "$work/build.log"
fi

finish
