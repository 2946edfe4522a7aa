#!/usr/bin/env bash
# Tests scripts/build.sh: usage errors, the packages it writes, that a second build from a fresh
# target directory gives the same bytes, and that the binaries run — x86_64 natively, arm64
# under qemu-aarch64-static (installed with apt when missing).
#
#   scripts/test-build.sh [--function NAME]...     (default: every function)
#
# Ends with "N passed, N failed"; exits 1 when anything failed.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build=scripts/build.sh
functions=()
while (($#)); do
    case "$1" in
        --function)
            (($# >= 2)) || { echo "test-build.sh: --function needs a name" >&2; exit 2; }
            functions+=("$2")
            shift 2
            ;;
        *)
            echo "usage: scripts/test-build.sh [--function NAME]..." >&2
            exit 2
            ;;
    esac
done
((${#functions[@]})) || functions=(echo fibonacci error panic context hello)
function_args=()
for f in "${functions[@]}"; do function_args+=(--function "$f"); done

passed=0
failed=0
pass() { echo "ok   - $1"; passed=$((passed + 1)); }
fail() { echo "FAIL - $1"; failed=$((failed + 1)); }
# check NAME COMMAND...: runs the command, passes when it succeeds.
check() {
    local name=$1
    shift
    if "$@"; then pass "$name"; else fail "$name"; fi
}

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# --- Usage errors -----------------------------------------------------------------------------
# expect_usage_error NAME PATTERN ARGS...: build.sh exits 2 and says PATTERN on stderr.
expect_usage_error() {
    local name=$1 pattern=$2 status=0
    shift 2
    "$build" "$@" >"$scratch/out" 2>"$scratch/err" || status=$?
    if [[ $status -eq 2 ]] && grep -q -- "$pattern" "$scratch/err"; then
        pass "$name"
    else
        fail "$name (exit $status, stderr: $(head -c 200 "$scratch/err"))"
    fi
}
expect_usage_error "unknown option exits 2 and names it" "unknown option '--frobnicate'" --frobnicate
expect_usage_error "unknown arch exits 2" "unknown arch 'mips'" --arch mips
expect_usage_error "unknown function exits 2" "unknown function 'nope'" --function nope
expect_usage_error "--arch without a value exits 2" "--arch needs a value" --arch
check "--help prints usage and exits 0" bash -c "'$build' --help | grep -q '^Usage: scripts/build.sh'"

# --- Build and packages -----------------------------------------------------------------------
if "$build" "${function_args[@]}" >"$scratch/build1.log" 2>&1; then
    pass "build.sh builds ${functions[*]} for x86_64 and arm64"
else
    fail "build.sh builds ${functions[*]} for x86_64 and arm64 (log below)"
    tail -30 "$scratch/build1.log"
fi
sed -n '/^function  *arch/,/^$/p' "$scratch/build1.log"

zip_is_lambda_package() {
    python3 - "$1" <<'EOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    infos = z.infolist()
    assert [i.filename for i in infos] == ["bootstrap"], [i.filename for i in infos]
    assert infos[0].external_attr >> 16 == 0o100755, oct(infos[0].external_attr >> 16)
EOF
}
elf_is_static_for() {
    local file=$1 machine=$2
    # Independent of build.sh's own check: readelf when it is there.
    if command -v readelf >/dev/null; then
        readelf -h "$file" | grep -q "Machine: *$machine" &&
            ! readelf -l "$file" | grep -q INTERP &&
            ! readelf -d "$file" | grep -q NEEDED
    else
        python3 scripts/lambda_package.py check-elf "$file" "$3"
    fi
}
for arch in x86_64 arm64; do
    machine=$([[ $arch == x86_64 ]] && echo "Advanced Micro Devices X86-64" || echo AArch64)
    for f in "${functions[@]}"; do
        dir=target/lambda/$arch/$f
        check "$arch/$f: bootstrap.zip holds bootstrap at its root, mode 0755" \
            zip_is_lambda_package "$dir/bootstrap.zip"
        check "$arch/$f: bootstrap is static, for $arch" elf_is_static_for "$dir/bootstrap" "$machine" "$arch"
    done
done

# --- Reproducibility --------------------------------------------------------------------------
hashes() { (cd target/lambda && sha256sum -- */*/bootstrap */*/bootstrap.zip | sort -k2); }
hashes >"$scratch/hashes1"
if CARGO_TARGET_DIR="$scratch/fresh-target" "$build" "${function_args[@]}" >"$scratch/build2.log" 2>&1; then
    hashes >"$scratch/hashes2"
    if diff -u "$scratch/hashes1" "$scratch/hashes2"; then
        pass "a second build from a fresh target directory gives byte-identical binaries and zips"
    else
        fail "a second build from a fresh target directory gives byte-identical binaries and zips"
    fi
else
    fail "second build (log below)"
    tail -30 "$scratch/build2.log"
fi
grep 'bootstrap.zip' "$scratch/hashes2" 2>/dev/null | sed 's/^/    /' || true

# --- The binaries run ---------------------------------------------------------------------------
# runs_without_api NAME COMMAND...: exits 2 saying AWS_LAMBDA_RUNTIME_API is not set.
runs_without_api() {
    local name=$1 status=0
    shift
    env -i "$@" >"$scratch/out" 2>"$scratch/err" || status=$?
    if [[ $status -eq 2 ]] && grep -q "AWS_LAMBDA_RUNTIME_API is not set" "$scratch/err"; then
        pass "$name"
    else
        fail "$name (exit $status, stderr: $(head -c 200 "$scratch/err"))"
    fi
}
# serves_one_event NAME COMMAND...: against a fake Runtime API on loopback, echo answers an event
# with the same bytes, then exits 1 when /next answers 500.
serves_one_event() {
    local name=$1
    shift
    if python3 - "$@" <<'EOF'; then pass "$name"; else fail "$name"; fi
import socket, subprocess, sys
sys.path.insert(0, "scripts")
from invoke_timing import read_request
event = b'{"hello":"world"}'
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(1)
server.settimeout(60)
env = {"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:%d" % server.getsockname()[1]}
proc = subprocess.Popen(sys.argv[1:], env=env, stderr=subprocess.DEVNULL)
try:
    conn, _ = server.accept()
    conn.settimeout(60)
    line, buf = read_request(conn, b"")
    assert line.startswith(b"GET ") and line.split()[1].endswith(b"/runtime/invocation/next"), line
    conn.sendall(b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: id-1\r\n"
                 b"Content-Length: %d\r\n\r\n%s" % (len(event), event))
    while b"\r\n\r\n" not in buf:
        buf += conn.recv(65536)
    head, _, body = buf.partition(b"\r\n\r\n")
    assert head.startswith(b"POST ") and b"/runtime/invocation/id-1/response" in head, head
    while len(body) < len(event):
        body += conn.recv(65536)
    assert body[: len(event)] == event, body
    conn.sendall(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
    line, _ = read_request(conn, body[len(event):])
    conn.sendall(b"HTTP/1.1 500 X\r\nContent-Length: 0\r\n\r\n")
    assert proc.wait(60) == 1, proc.returncode
finally:
    if proc.poll() is None:
        proc.kill()
EOF
}

if [[ " ${functions[*]} " == *" echo "* ]]; then
    runs_without_api "x86_64 echo without AWS_LAMBDA_RUNTIME_API exits 2 and says why" \
        target/lambda/x86_64/echo/bootstrap
    serves_one_event "x86_64 echo serves an event against a fake Runtime API" \
        target/lambda/x86_64/echo/bootstrap

    if ! command -v qemu-aarch64-static >/dev/null; then
        echo "Installing qemu-user-static to run the arm64 binary" >&2
        if [[ $(id -u) -eq 0 ]]; then sudo=(); else sudo=(sudo); fi
        # A failure here is reported below, as qemu missing.
        if "${sudo[@]}" apt-get update -qq >&2; then
            DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq qemu-user-static >&2 || true
        fi
    fi
    if command -v qemu-aarch64-static >/dev/null; then
        qemu=$(command -v qemu-aarch64-static)
        runs_without_api "arm64 echo under qemu without AWS_LAMBDA_RUNTIME_API exits 2 and says why" \
            "$qemu" target/lambda/arm64/echo/bootstrap
        serves_one_event "arm64 echo under qemu serves an event against a fake Runtime API" \
            "$qemu" target/lambda/arm64/echo/bootstrap
    else
        fail "qemu-aarch64-static is not available (apt-get install qemu-user-static failed)"
    fi
fi

echo
echo "$passed passed, $failed failed"
((failed == 0))
