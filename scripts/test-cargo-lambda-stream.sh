#!/usr/bin/env bash
# Checks that cargo-lambda's local emulator streams a function URL response
# of this runtime: `cargo lambda watch` serves the `bootstrap` binary with
# _HANDLER=http-stream, and a GET on /lambda-url/bootstrap/ must get the
# prelude's status, headers and cookie, then the page's three parts as they
# are written (the handler sleeps 50 ms between them), with no error in
# watch's log. Everything stays on loopback; no AWS call.
#
# cargo-lambda's emulator (1.9.2) reads the prelude as the body's first HTTP chunk alone, the
# 8-NUL separator as the second, and requires a `cookies` field
# (crates/cargo-lambda-watch/src/trigger_router.rs, create_streaming_response). Lambda reads
# bytes, not chunks, but ResponseStream::http_response frames them that way (and always writes
# `cookies`) so that local runs stream too; before that, every request got HTTP 500.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

source scripts/lib-watch.sh
if ! start_watch --env-var _HANDLER=http-stream; then
    not_ok "cargo lambda watch listens on 127.0.0.1:$port within 60 s"
    finish
fi

# One GET on the function URL path; every body line is written to
# $work/lines as "<seconds since the response head> <line>", the status and
# headers to $work/head. The first request waits for watch's debug build.
python3 - "$port" "$work" <<'EOF'
import http.client, sys, time
port, work = int(sys.argv[1]), sys.argv[2]
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=240)
conn.request("GET", "/lambda-url/bootstrap/")
resp = conn.getresponse()
start = time.monotonic()
with open(f"{work}/head", "w") as head:
    head.write(f"{resp.status}\n")
    for name, value in resp.getheaders():
        head.write(f"{name.lower()}: {value}\n")
with open(f"{work}/lines", "w") as lines:
    while True:
        line = resp.readline()
        if not line:
            break
        lines.write(f"{time.monotonic() - start:.3f} {line.decode(errors='replace').rstrip()}\n")
EOF
echo "response head:"; sed 's/^/    /' "$work/head"
echo "body lines (seconds after the head):"; sed 's/^/    /' "$work/lines"

if [[ "$(head -1 "$work/head")" == 200 ]]; then
    ok "GET /lambda-url/bootstrap/ answers 200 (the prelude's statusCode)"
else
    not_ok "GET /lambda-url/bootstrap/ answers 200: got $(head -1 "$work/head")"
fi

if grep -qi '^content-type: text/html; charset=utf-8$' "$work/head" \
    && grep -qi '^set-cookie: visited=1; Path=/; HttpOnly$' "$work/head"; then
    ok "the prelude's content-type and cookie are the response's headers"
else
    not_ok "the prelude's content-type and cookie are the response's headers"
fi

# The three parts, in order, and the first one well before the last: the
# handler sleeps 50 ms twice between them, so a body gathered before being
# sent would bring them all at once.
if python3 - "$work/lines" <<'EOF'
import sys
times = {}
for row in open(sys.argv[1]):
    at, _, text = row.rstrip("\n").partition(" ")
    for part in ("first", "second", "third"):
        if f"<p>{part} part" in text:
            times[part] = float(at)
ok = len(times) == 3 and times["first"] <= times["second"] <= times["third"]
ok = ok and times["third"] - times["first"] >= 0.08
sys.exit(0 if ok else 1)
EOF
then
    ok "the page's parts arrive as they are written (first to third >= 80 ms apart)"
else
    not_ok "the page's parts arrive as they are written (first to third >= 80 ms apart)"
fi

# The function logs a broken stream when its next write fails, after the
# caller already has its answer: give it that long.
sleep 1
if grep -Eq '\[ERROR\]|response failed' "$watch_log"; then
    not_ok "no error in watch's log:"
    grep -E '\[ERROR\]|response failed' "$watch_log" | sed 's/^/    /'
else
    ok "no error in watch's log"
fi

stop_watch
echo
finish
