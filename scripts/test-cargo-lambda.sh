#!/usr/bin/env bash
# Checks that cargo-lambda's local emulator runs this workspace as it is:
# `cargo lambda watch` builds and serves the `bootstrap` binary on 127.0.0.1,
# and `cargo lambda invoke bootstrap` reaches the handler chosen by _HANDLER.
# One watch serves one _HANDLER (the env belongs to the watch), so the test
# runs a watch per handler. Everything stays on loopback; no AWS call.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/lib-check.sh
source scripts/lib-venv.sh
ensure_venv cargo-lambda
export PATH="$VENV/bin:$PATH"

work="$(mktemp -d "${TMPDIR:-/tmp}/test-cargo-lambda.XXXXXX")"
source scripts/lib-watch.sh

# invoke DESCRIPTION PAYLOAD EXPECTED-JSON: compares as JSON, not as text.
invoke() {
    local what="$1" payload="$2" expected="$3" out rc=0
    # The first invoke waits for watch's debug build of the workspace.
    out="$(timeout 240 cargo lambda invoke -A 127.0.0.1 -P "$port" --data-ascii "$payload" bootstrap 2>&1)" || rc=$?
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

# A build as cargo lambda does it for a deploy, for this machine (x86_64),
# with plain cargo rather than cargo-zigbuild.
if nice cargo lambda build --release --compiler cargo >"$work/build.log" 2>&1 \
    && [[ -x target/lambda/bootstrap/bootstrap ]]; then
    ok "cargo lambda build --release --compiler cargo writes target/lambda/bootstrap/bootstrap"
else
    not_ok "cargo lambda build --release --compiler cargo:"; tail -20 "$work/build.log"
fi

finish
