# shellcheck shell=bash source-path=SCRIPTDIR
# Sourced, from the repository root, by the scripts that test against cargo lambda watch: gives
# them lib-check.sh's tally, cargo-lambda (in target/venv) on PATH, a scratch folder $work, and
# an EXIT trap that stops the watch and removes $work.
#
#   start_watch [watch args...]   serves on 127.0.0.1:$port once the port listens; the watch's
#                                 output goes to $watch_log. Returns 1 after 60 s without it.
#   stop_watch                    ends the watch and the bootstrap it started, and nothing else.

source scripts/lib-check.sh
source scripts/lib-venv.sh
ensure_venv cargo-lambda
export PATH="$VENV/bin:$PATH"
work="$(mktemp -d "${TMPDIR:-/tmp}/$(basename "$0" .sh).XXXXXX")"

watch_pid=""
port=""
watch_log=""

start_watch() {
    port="$(free_port)"
    watch_log="$work/watch-$port.log"
    # Its own process group (setsid), so stop_watch can end it with what it started.
    setsid nice cargo lambda watch -A 127.0.0.1 -P "$port" "$@" >"$watch_log" 2>&1 &
    watch_pid=$!
    for _ in $(seq 1 120); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        sleep 0.5
    done
    echo "cargo lambda watch did not listen on 127.0.0.1:$port within 60 s:"
    cat "$watch_log"
    return 1
}

stop_watch() {
    if [[ -n "$watch_pid" ]]; then
        kill -TERM -- "-$watch_pid" 2>/dev/null || true
        wait "$watch_pid" 2>/dev/null || true
        watch_pid=""
    fi
}

trap 'stop_watch; rm -rf "$work"' EXIT
