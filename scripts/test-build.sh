#!/usr/bin/env bash
# Tests scripts/build.sh (and through it cargo lambda-zip): usage errors, the packages it writes,
# that a second build from a fresh target directory gives the same bytes, and that the binaries
# run — x86_64 natively, arm64 under qemu-aarch64-static. The packages are checked with
# readelf (or file) and unzip, independently of the tool's own checks; qemu-user-static and
# unzip are installed with apt when missing.
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

# apt_install PACKAGE...: installs with apt (as root, or with sudo); a failure shows up later
# as the command missing.
apt_install() {
    echo "Installing $* with apt" >&2
    if [[ $(id -u) -eq 0 ]]; then sudo=(); else sudo=(sudo); fi
    if "${sudo[@]}" apt-get update -qq >&2; then
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "$@" >&2 || true
    fi
}
command -v unzip >/dev/null || apt_install unzip

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
expect_usage_error "--bin without --manifest-path exits 2" "--bin goes with --manifest-path" --bin echo
expect_usage_error "the tool's options without --manifest-path exit 2" "--features goes with --manifest-path" --features x
expect_usage_error "--function with --manifest-path exits 2" "--function names a shipped function" \
    --manifest-path bootstrap/Cargo.toml --function echo
check "--help prints usage and exits 0" bash -c "'$build' --help | grep '^Usage: scripts/build.sh' >/dev/null"

# expect_tool_error NAME PATTERN ARGS...: the tool refuses with exit 1 and one line on stderr.
expect_tool_error() {
    local name=$1 pattern=$2 status=0
    shift 2
    "$build" "$@" >"$scratch/out" 2>"$scratch/err" || status=$?
    if [[ $status -eq 1 ]] && [[ $(wc -l <"$scratch/err") -eq 1 ]] && grep -q -- "$pattern" "$scratch/err"; then
        pass "$name"
    else
        fail "$name (exit $status, stderr: $(head -c 300 "$scratch/err"))"
    fi
}
expect_tool_error "--manifest-path to no project is one line from the tool, exit 1" \
    "error: --manifest-path .*nowhere/Cargo.toml: no such file" --manifest-path "$scratch/nowhere/Cargo.toml"
expect_tool_error "an unknown --bin lists the binaries there are" \
    "no binary target named 'nope': the binaries are bootstrap, context, echo" \
    --manifest-path bootstrap/Cargo.toml --bin nope

# --- Build and packages -----------------------------------------------------------------------
if "$build" "${function_args[@]}" >"$scratch/build1.log" 2>&1; then
    pass "build.sh builds ${functions[*]} for x86_64 and arm64"
else
    fail "build.sh builds ${functions[*]} for x86_64 and arm64 (log below)"
    tail -30 "$scratch/build1.log"
fi
sed -n '/^bin  *arch/,/^$/p' "$scratch/build1.log"

# The pipes below end in `grep PATTERN >/dev/null`, not `grep -q`: -q exits at the first match,
# and the writer then dies of SIGPIPE if it had more to write, which pipefail reports as a
# failure of the whole check (seen under load: unzip -Z's summary line after the matching one).
# zip_is_lambda_package ZIP BINARY: bootstrap alone at the root, a regular file with mode 0755
# made on Unix (zipinfo: "-rwxr-xr-x ... unx"), deflated, the same bytes as the binary.
zip_is_lambda_package() {
    local zip=$1 binary=$2
    [[ $(unzip -Z1 "$zip") == bootstrap ]] &&
        unzip -Z "$zip" | grep -E '^-rwxr-xr-x +[0-9.]+ unx +[0-9]+ [a-z-]+ +def[NXFS] .* bootstrap$' >/dev/null &&
        unzip -p "$zip" bootstrap | cmp -s - "$binary"
}
# elf_is_static_for FILE ARCH: an ELF for ARCH with no interpreter and no shared libraries.
elf_is_static_for() {
    local file=$1 arch=$2 machine description
    if command -v readelf >/dev/null; then
        machine=$([[ $arch == x86_64 ]] && echo "Advanced Micro Devices X86-64" || echo AArch64)
        readelf -h "$file" | grep "Machine: *$machine" >/dev/null &&
            ! readelf -l "$file" | grep INTERP >/dev/null &&
            ! readelf -d "$file" | grep NEEDED >/dev/null
    else
        machine=$([[ $arch == x86_64 ]] && echo "x86-64" || echo "ARM aarch64")
        description=$(file -b "$file")
        [[ $description == *"$machine"* && $description == *static* && $description != *interpreter* ]]
    fi
}
for arch in x86_64 arm64; do
    for f in "${functions[@]}"; do
        dir=target/lambda/$arch/$f
        check "$arch/$f: bootstrap.zip holds bootstrap alone at its root, mode 0755, deflated" \
            zip_is_lambda_package "$dir/bootstrap.zip" "$dir/bootstrap"
        check "$arch/$f: bootstrap is static, for $arch" elf_is_static_for "$dir/bootstrap" "$arch"
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

# The second form: any project by its manifest, here the bootstrap package itself.
first=${functions[0]}
if "$build" --manifest-path bootstrap/Cargo.toml --bin "$first" --arch x86_64 >"$scratch/build3.log" 2>&1 &&
    grep " x86_64/$first/bootstrap.zip\$" "$scratch/hashes1" | (cd target/lambda && sha256sum -c --quiet -); then
    pass "--manifest-path bootstrap/Cargo.toml --bin $first gives the same x86_64 zip"
else
    fail "--manifest-path bootstrap/Cargo.toml --bin $first gives the same x86_64 zip (log below)"
    tail -30 "$scratch/build3.log"
fi

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

    command -v qemu-aarch64-static >/dev/null || apt_install qemu-user-static
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
