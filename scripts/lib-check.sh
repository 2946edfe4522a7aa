# shellcheck shell=bash
# Sourced by the scripts/test-*.sh scripts: one tally of checks, printed the
# same way by each, so scripts/test.sh and CI read every script alike.
#   ok WHAT                  records a passed check:  "ok   - WHAT"
#   not_ok WHAT              records a failed check:  "FAIL - WHAT"
#   check WHAT COMMAND...    ok when COMMAND succeeds, not_ok otherwise
#   finish                   prints "N passed, M failed" and exits, non-zero if any failed

passed=0
failed=0

ok() {
    echo "ok   - $1"
    passed=$((passed + 1))
}

not_ok() {
    echo "FAIL - $1"
    failed=$((failed + 1))
}

check() {
    local what="$1"
    shift
    if "$@"; then ok "$what"; else not_ok "$what"; fi
}

finish() {
    echo
    echo "$passed passed, $failed failed"
    if ((failed > 0)); then exit 1; fi
    exit 0
}
