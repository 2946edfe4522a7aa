#!/usr/bin/env bash
# A real HTTP client against a real emulator: `cargo lambda watch` serves the
# `bootstrap` binary's `web` function behind its function URL endpoint
# (/lambda-url/bootstrap/...), and curl sends it requests: the answers must be
# what the web function promises (status, headers, both cookies, the request as
# the handler saw it, raw bytes for /bytes, the status of /status/NNN). Then the
# same with `web-stream`, the web function with its response streamed. One watch
# per _HANDLER (the env belongs to the watch). Loopback only; no AWS call.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

source scripts/lib-watch.sh

# request NAME CURL-ARGS... -- PATH: writes $work/NAME.head (status line and
# headers) and $work/NAME.body. The first request waits for watch's build.
request() {
    local name="$1"; shift
    local args=()
    while [[ "$1" != -- ]]; do args+=("$1"); shift; done
    curl -sS --max-time 240 -D "$work/$name.head" -o "$work/$name.body" "${args[@]}" \
        "http://127.0.0.1:$port/lambda-url/bootstrap$2" || echo "curl failed: $?" >>"$work/$name.head"
}

# The checks on one handler's answers; $1 names the handler in the messages.
check_answers() {
    local fn="$1"
    request describe -X POST -H 'content-type: text/plain' -H 'x-multi: one' \
        -b 'session=abc; theme=dark' --data-binary 'hello from curl' \
        -- '/items/7?fields=na%2Cme&tag=a&tag=b&q=a+b%20c'
    request bytes -- /bytes
    request status -- /status/418
    if python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
def head(name):
    lines = open(f"{work}/{name}.head", encoding="latin-1").read().splitlines()
    status = int(lines[0].split()[1])
    headers = [tuple(x.strip() for x in line.split(":", 1)) for line in lines[1:] if ":" in line]
    return status, [(k.lower(), v) for k, v in headers]
failures = []
def expect(what, ok):
    if not ok:
        failures.append(what)
status, headers = head("describe")
expect(f"status 200 (got {status})", status == 200)
expect("content-type: application/json", ("content-type", "application/json") in headers)
expect("x-served-by: web", ("x-served-by", "web") in headers)
cookies = [v for k, v in headers if k == "set-cookie"]
expect(f"both cookies (got {cookies})", cookies == ["a=1", "b=2; Path=/"])
try:
    body = json.load(open(f"{work}/describe.body"))
except ValueError as e:
    body = {}
    failures.append(f"the body is JSON: {e}")
expect(f"method POST (got {body.get('method')})", body.get("method") == "POST")
expect(f"path /items/7 (got {body.get('path')})", body.get("path") == "/items/7")
query = body.get("query", {})
expect(f"query decoded, the comma kept (got {query})",
       query.get("fields") == ["na,me"] and query.get("tag") == ["a", "b"] and query.get("q") == ["a b c"])
expect(f"cookies (got {body.get('cookies')})", body.get("cookies") == ["session=abc", "theme=dark"])
expect(f"header x-multi (got {body.get('headers', {}).get('x-multi')})", body.get("headers", {}).get("x-multi") == ["one"])
expect("no cookie in headers", "cookie" not in body.get("headers", {}))
expect(f"body (got {body.get('body')!r})", body.get("body") == "hello from curl")
expect(f"source http (got {body.get('source')})", body.get("source") == "http")
status, headers = head("bytes")
raw = open(f"{work}/bytes.body", "rb").read()
expect(f"/bytes: 200 (got {status})", status == 200)
expect("/bytes: application/octet-stream", ("content-type", "application/octet-stream") in headers)
expect(f"/bytes: the 256 bytes 0..255 (got {len(raw)} bytes)", raw == bytes(range(256)))
status, _ = head("status")
expect(f"/status/418: 418 (got {status})", status == 418)
expect("/status/418: empty body", open(f"{work}/status.body", "rb").read() == b"")
for failure in failures:
    print("   ", failure)
sys.exit(1 if failures else 0)
PY
    then
        ok "$fn: curl through cargo lambda's function URL gets the web function's answers"
    else
        not_ok "$fn: curl through cargo lambda's function URL gets the web function's answers:"
        for f in "$work"/*.head; do echo "    $f:"; sed 's/^/      /' "$f"; done
        echo "    describe body: $(head -c 2000 "$work/describe.body" 2>/dev/null)"
        tail -20 "$watch_log" | sed 's/^/    | /'
    fi
}

for fn in web web-stream; do
    if start_watch --env-var "_HANDLER=$fn"; then
        check_answers "$fn"
    else
        not_ok "cargo lambda watch starts ($fn)"
    fi
    stop_watch
done

finish
