#!/usr/bin/env bash
# Tests coldstart-aws.sh without AWS: report_line.py's unit tests, every bad
# argument and a missing AWS CLI stop it with a message before any AWS call,
# and a full run against a stand-in `aws` (which answers like Lambda would)
# prints p50/p99 per architecture and deletes what it created.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/lib-check.sh

work="$(mktemp -d "${TMPDIR:-/tmp}/test-coldstart.XXXXXX")"
trap 'rm -rf "$work"' EXIT

if python3 -m unittest discover -s scripts -p 'test_report_line.py' >"$work/unit.out" 2>&1; then
    ok "report_line.py unit tests ($(grep -o 'Ran [0-9]* tests' "$work/unit.out"))"
else
    not_ok "report_line.py unit tests:"; sed 's/^/    /' "$work/unit.out"
fi

# A scratch copy of the layout, with stand-in zips for both arches.
repo="$work/repo"
mkdir -p "$repo/scripts" "$repo/bootstrap/src" "$repo/extension/src"
cp scripts/coldstart-aws.sh scripts/deploy.sh scripts/report_line.py "$repo/scripts/"
# deploy.sh's lists of the shipped functions and extensions.
cp -r bootstrap/src/bin "$repo/bootstrap/src/"
cp -r extension/src/bin "$repo/extension/src/"
# deploy.sh opens the zip and wants an executable bootstrap at its root.
for arch in x86_64 arm64; do
    mkdir -p "$repo/target/lambda/$arch/fibonacci"
    python3 - "$repo/target/lambda/$arch/fibonacci/bootstrap.zip" <<'EOF'
import sys, zipfile
info = zipfile.ZipInfo("bootstrap")
info.external_attr = 0o100755 << 16
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr(info, "#!/bin/sh\necho stand-in\n")
EOF
done

# A stand-in `aws` that logs each call and answers as Lambda would.
mkdir -p "$work/bin"
calls="$work/aws-calls.log"
cat >"$work/bin/aws" <<EOF
#!/usr/bin/env bash
echo "aws \$*" >>"$calls"
case "\$*" in
    --version) echo "aws-cli/1.0.0 stand-in" ;;
    "lambda get-function "*) echo "An error occurred (ResourceNotFoundException) when calling the GetFunction operation" >&2; exit 254 ;;
    "lambda invoke "*)
        n=\$(grep -c '^aws lambda invoke' "$calls")
        printf 'START RequestId: r%s\nEND RequestId: r%s\nREPORT RequestId: r%s\tDuration: %s.5 ms\tBilled Duration: 20 ms\tMemory Size: 128 MB\tMax Memory Used: 1%s MB\tInit Duration: %s.25 ms\t\n' \
            "\$n" "\$n" "\$n" "\$n" "\$n" "\$((n * 10))" | base64 -w0
        echo ;;
esac
exit 0
EOF
chmod +x "$work/bin/aws"
role="arn:aws:iam::123456789012:role/lambda-role"

# expect_refused DESCRIPTION MESSAGE-REGEX -- args...
expect_refused() {
    local what="$1" message="$2"; shift 3
    : >"$calls"
    local rc=0
    PATH="$work/bin:$PATH" "$repo/scripts/coldstart-aws.sh" "$@" >"$work/out" 2>&1 || rc=$?
    local out; out="$(cat "$work/out")"
    if [[ $rc != 0 ]] && grep -Eq -- "$message" <<<"$out" && [[ ! -s "$calls" ]]; then
        ok "$what: exits non-zero, says /$message/, no AWS call"
    else
        not_ok "$what: expected non-zero, /$message/, no AWS call (rc=$rc, calls: $(cat "$calls"), output: $out)"
    fi
}

expect_refused "no --role" "--role ARN is required" -- --count 3
expect_refused "unknown argument" "unknown argument: --colour" -- --role "$role" --colour blue
expect_refused "count not a number" "--count must be a whole number" -- --role "$role" --count many
expect_refused "count zero" "--count must be a whole number >= 1" -- --role "$role" --count 0
expect_refused "unknown arch" "unknown architecture 'sparc'" -- --role "$role" --arch sparc
expect_refused "payload not JSON" "--payload is not valid JSON" -- --role "$role" --payload '{n:'
expect_refused "option without value" "option --count needs a value" -- --role "$role" --count
expect_refused "function without a zip" "echo/bootstrap.zip is missing; run scripts/build.sh" -- --role "$role" --function echo

mkdir -p "$work/noaws"
for tool in bash dirname grep cat seq date mktemp rm; do ln -sf "$(command -v "$tool")" "$work/noaws/$tool"; done
# The interpreter itself, not a version manager's shim that needs PATH.
ln -sf "$(python3 -c 'import sys; print(sys.executable)')" "$work/noaws/python3"
rc=0
env PATH="$work/noaws" bash "$repo/scripts/coldstart-aws.sh" --role "$role" >"$work/out" 2>&1 || rc=$?
if [[ $rc != 0 ]] && grep -q "AWS CLI ('aws') is not on PATH" "$work/out"; then ok "missing AWS CLI: exits non-zero with a message"
else not_ok "missing AWS CLI: exits non-zero with a message (rc=$rc, output: $(cat "$work/out"))"; fi

# The whole flow against the stand-in: 3 cold starts per arch.
: >"$calls"
rc=0
PATH="$work/bin:$PATH" "$repo/scripts/coldstart-aws.sh" --role "$role" --count 3 >"$work/out" 2>"$work/err" || rc=$?
if [[ $rc == 0 ]]; then ok "full run against a stand-in aws exits 0"; else not_ok "full run exits 0 (rc=$rc: $(cat "$work/out" "$work/err"))"; fi
for arch in x86_64 arm64; do
    if grep -q "^$arch: 3 invocations, 3 cold" "$work/out"; then ok "summary for $arch counts 3 cold starts"
    else not_ok "summary for $arch counts 3 cold starts (got: $(cat "$work/out"))"; fi
    if grep -q -- "create-function --function-name coldstart-fibonacci-$arch --architectures $arch" "$calls"; then ok "deploys coldstart-fibonacci-$arch via deploy.sh"
    else not_ok "deploys coldstart-fibonacci-$arch via deploy.sh"; fi
    if grep -q -- "delete-function --function-name coldstart-fibonacci-$arch" "$calls"; then ok "deletes coldstart-fibonacci-$arch at the end"
    else not_ok "deletes coldstart-fibonacci-$arch at the end"; fi
done
# Invocations 1..3 (x86_64) had init 10, 20, 30 ms: p50 20.25, p99 30.25.
if grep -Eq "Init Duration +p50 +20.25 ms +p99 +30.25 ms" "$work/out"; then ok "x86_64 init p50/p99 from the REPORT lines"
else not_ok "x86_64 init p50/p99 from the REPORT lines (got: $(cat "$work/out"))"; fi
n_env="$(grep -c -- '--environment Variables={COLDSTART_NONCE=' "$calls" || true)"
if [[ "$n_env" == 6 ]]; then ok "changes the environment before each of the 6 invocations"
else not_ok "changes the environment before each of the 6 invocations (saw $n_env)"; fi
if grep -q -- "invoke .*--log-type Tail" "$calls"; then ok "invokes with --log-type Tail"; else not_ok "invokes with --log-type Tail"; fi

finish
