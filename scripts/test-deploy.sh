#!/usr/bin/env bash
# Tests scripts/deploy.sh against moto_server (a local AWS emulator) on
# 127.0.0.1: a first run creates the function, a second updates it, for a
# shipped function and for a user's own zip deployed under a name of its own;
# an extension's layer is published and a function created with it; and every
# bad input stops before any AWS call. Never contacts AWS.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/lib-check.sh
source scripts/lib-venv.sh
ensure_venv 'moto[server]' awscli
ensure_commands zip:zip

work="$(mktemp -d "${TMPDIR:-/tmp}/test-deploy.XXXXXX")"
moto_pid=""
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
    if [[ -n "$moto_pid" ]]; then kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# deploy.sh runs from a scratch copy of the repository layout, so what
# scripts/build.sh may or may not have written under target/lambda does not
# change which cases have a zip: only arm64/echo and arm64/invocation-summary have one.
repo="$work/repo"
mkdir -p "$repo/scripts" "$repo/target/lambda/arm64/echo" "$repo/bootstrap/src" "$repo/extension/src"
cp scripts/deploy.sh "$repo/scripts/"
cp -r bootstrap/src/bin "$repo/bootstrap/src/" # the shipped functions' list
cp -r extension/src/bin "$repo/extension/src/" # the shipped extensions' list
# stage ZIP ENTRY: the real build output of the same path under target/ into
# the scratch repository's ZIP, or, without one, a stand-in zip holding a small
# executable ENTRY: the test is about deploying, not the binary.
stage() {
    local zip="$1" entry="$2" built="${1#"$repo"/}"
    mkdir -p "$(dirname "$zip")"
    if [[ -f "$built" ]]; then
        cp "$built" "$zip"
        echo "using the real build output $built"
    else
        "$VENV/bin/python" - "$zip" "$entry" <<'PY'
import sys, zipfile
info = zipfile.ZipInfo(sys.argv[2])
info.external_attr = 0o100755 << 16
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr(info, f"#!/bin/sh\necho stand-in {sys.argv[2]} for deploy tests\n")
PY
        echo "no build output: using a stand-in zip with an executable $entry"
    fi
}
zip="$repo/target/lambda/arm64/echo/bootstrap.zip"
stage "$zip" bootstrap
zip_size="$(stat -c %s "$zip")"
# The shipped extension's layer, on arm64 too.
layer_zip="$repo/target/lambda/arm64/invocation-summary/extension.zip"
stage "$layer_zip" extensions/invocation-summary

# A user's own function, zipped the way a user would: any executable named
# bootstrap, zipped with `zip`, anywhere outside the repository.
user="$work/user"
mkdir -p "$user/v1" "$user/v2" "$user/nested/orders" "$user/noexec" "$user/arm64"
printf '#!/bin/sh\necho orders v1\n' >"$user/v1/bootstrap"
printf '#!/bin/sh\necho orders v2, a longer stand-in than the first\n' >"$user/v2/bootstrap"
cp "$user/v1/bootstrap" "$user/nested/orders/bootstrap"
cp "$user/v1/bootstrap" "$user/noexec/bootstrap"
chmod 755 "$user/v1/bootstrap" "$user/v2/bootstrap" "$user/nested/orders/bootstrap"
chmod 644 "$user/noexec/bootstrap"
# The first bytes of an arm64 ELF executable: enough for deploy.sh to tell the machine.
"$VENV/bin/python" -c 'import sys; sys.stdout.buffer.write(b"\x7fELF\x02\x01\x01" + bytes(11) + b"\xb7\x00" + bytes(44))' \
    >"$user/arm64/bootstrap"
chmod 755 "$user/arm64/bootstrap"
for dir in v1 v2 noexec arm64; do (cd "$user/$dir" && zip -q -X "../$dir.zip" bootstrap); done
(cd "$user/nested" && zip -q -X -r ../nested.zip orders)
# A user's own extension layers: extensions/<name> as Lambda wants it, not
# executable, built for arm64, and one a folder too deep.
mkdir -p "$user/layer/extensions" "$user/layer-noexec/extensions" "$user/layer-arm64/extensions" "$user/layer-deep/extensions/logs"
cp "$user/v1/bootstrap" "$user/layer/extensions/logs"
cp "$user/noexec/bootstrap" "$user/layer-noexec/extensions/logs"
cp "$user/arm64/bootstrap" "$user/layer-arm64/extensions/logs"
cp "$user/v1/bootstrap" "$user/layer-deep/extensions/logs/logs"
for dir in layer layer-noexec layer-arm64 layer-deep; do (cd "$user/$dir" && zip -q -X -r "../$dir.zip" extensions); done
echo "not a zip" >"$user/text.zip"

# Each test starts its own emulator on a free loopback port.
port="$(free_port)"
export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER=""
"$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
for _ in $(seq 1 100); do
    if "$VENV/bin/python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
        "$AWS_ENDPOINT_URL/moto-api/" 2>/dev/null; then break; fi
    sleep 0.2
done

# A recording `aws` in front of the real one: the bad-input cases assert
# that deploy.sh never reached it.
mkdir -p "$work/bin"
calls="$work/aws-calls.log"
cat >"$work/bin/aws" <<EOF
#!/usr/bin/env bash
echo "aws \$*" >>"$calls"
exec "$VENV/bin/aws" "\$@"
EOF
chmod +x "$work/bin/aws"
export PATH="$work/bin:$VENV/bin:$PATH"

aws iam create-role --role-name lambda-role \
    --assume-role-policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}' \
    >/dev/null
role="arn:aws:iam::123456789012:role/lambda-role"

function_exists() { aws lambda get-function --function-name "$1" >/dev/null 2>&1; }

# --- bad input: non-zero exit, a clear message, and no AWS call ---------------
# expect_refused DESCRIPTION EXPECTED-MESSAGE-REGEX NAME-THAT-MUST-NOT-EXIST -- deploy args...
expect_refused() {
    local what="$1" message="$2" name="$3"; shift 4
    : >"$calls"
    local rc=0
    "$repo/scripts/deploy.sh" "$@" >"$work/out" 2>&1 || rc=$?
    local out; out="$(cat "$work/out")"
    if [[ $rc == 0 ]]; then not_ok "$what: exits non-zero (got 0; output: $out)"; return; fi
    if grep -Eq -- "$message" <<<"$out"; then ok "$what: says /$message/"; else not_ok "$what: says /$message/ (got: $out)"; fi
    if [[ -s "$calls" ]]; then not_ok "$what: makes no AWS call (made: $(cat "$calls"))"; else ok "$what: makes no AWS call"; fi
    if [[ -n "$name" ]] && function_exists "$name"; then not_ok "$what: function $name must not exist"; fi
}

expect_refused "unknown function" "unknown function 'nope'.*context echo error fibonacci hello http-stream panic sleep stream web" nope -- \
    nope --role "$role"
expect_refused "missing zip" "scripts/build.sh" fibonacci -- \
    fibonacci --role "$role"
expect_refused "arch whose zip is missing" "x86_64.*missing.*scripts/build.sh" echo -- \
    echo --arch x86_64 --role "$role"
expect_refused "unknown architecture" "unknown architecture 'sparc'" echo -- \
    echo --arch sparc --role "$role"
expect_refused "unknown option" "unknown option: --colour" echo -- \
    echo --colour blue --role "$role"
expect_refused "option without a value" "--role needs a value" echo -- \
    echo --role
expect_refused "no function given" "no FUNCTION or --zip PATH given" "" -- \
    --role "$role"
expect_refused "non-numeric memory" "--memory must be a whole number" echo -- \
    echo --memory lots --role "$role"
expect_refused "invalid function name" "function name 'my orders' is not valid" "" -- \
    echo --name "my orders" --role "$role"

# A user's zip: each problem is found in the zip itself, before AWS is asked.
expect_refused "--zip without --name" "--zip needs --name NAME" "" -- \
    --zip "$user/v1.zip" --role "$role"
expect_refused "--zip and a FUNCTION" "either a shipped FUNCTION or --zip PATH, not both" orders -- \
    echo --zip "$user/v1.zip" --name orders --role "$role"
expect_refused "--zip of a missing file" "no such file: .*/nope.zip" orders -- \
    --zip "$user/nope.zip" --name orders --role "$role"
expect_refused "--zip of a file that is not a zip" "text.zip is not a zip file" orders -- \
    --zip "$user/text.zip" --name orders --role "$role"
expect_refused "--zip without bootstrap at its root" "nested.zip has no bootstrap at its root \(it is at orders/bootstrap\)" orders -- \
    --zip "$user/nested.zip" --name orders --role "$role"
expect_refused "--zip whose bootstrap is not executable" "bootstrap in .*noexec.zip is not executable \(mode 644\)" orders -- \
    --zip "$user/noexec.zip" --name orders --role "$role"
expect_refused "--zip built for another arch" "built for arm64, not x86_64: pass --arch arm64" orders -- \
    --zip "$user/arm64.zip" --name orders --arch x86_64 --role "$role"
expect_refused "unknown function hints at --zip" "unknown function 'orders'.*--zip PATH --name NAME" orders -- \
    orders --role "$role"

# An extension's layer: the same checks, on extensions/<name>.
expect_refused "--layer of an unknown extension" "unknown extension 'nope'.*invocation-summary.*--zip PATH --layer NAME" "" -- \
    --layer nope
expect_refused "--layer whose zip is missing" "no layer for 'invocation-summary' on x86_64: .*extension.zip is missing; run scripts/build.sh" "" -- \
    --layer invocation-summary --arch x86_64
expect_refused "--layer with a FUNCTION" "either a FUNCTION or --layer NAME, not both" "" -- \
    echo --layer invocation-summary
expect_refused "--layer with a function's option" "--role is for a function, not for --layer" "" -- \
    --layer invocation-summary --role "$role"
expect_refused "invalid layer name" "layer name 'my logs' is not valid" "" -- \
    --zip "$user/layer.zip" --layer "my logs"
expect_refused "--layer of a function's zip" "v1.zip has no extensions/<name> \(it holds bootstrap\)" "" -- \
    --zip "$user/v1.zip" --layer logs --arch x86_64
expect_refused "--layer with the extension a folder too deep" "layer-deep.zip has no extensions/<name>" "" -- \
    --zip "$user/layer-deep.zip" --layer logs --arch x86_64
expect_refused "--layer whose extension is not executable" "extensions/logs in .*layer-noexec.zip is not executable \(mode 644\)" "" -- \
    --zip "$user/layer-noexec.zip" --layer logs --arch x86_64
expect_refused "--layer built for another arch" "extensions/logs in .*layer-arm64.zip is built for arm64, not x86_64: pass --arch arm64" "" -- \
    --zip "$user/layer-arm64.zip" --layer logs --arch x86_64
expect_refused "--layers with something not a layer version ARN" "--layers: 'arn:aws:lambda:us-east-1:123456789012:layer:logs' is not a layer version ARN" orders -- \
    --zip "$user/v1.zip" --name orders --arch x86_64 --role "$role" --layers arn:aws:lambda:us-east-1:123456789012:layer:logs
expect_refused "--layers with six layers" "--layers has 6 layers; a function may use at most 5" orders -- \
    --zip "$user/v1.zip" --name orders --arch x86_64 --role "$role" \
    --layers "$(printf 'arn:aws:lambda:us-east-1:123456789012:layer:l:%s,' 1 2 3 4 5 6 | sed 's/,$//')"

# No AWS CLI at all: a PATH with the basic tools but without aws.
mkdir -p "$work/noaws"
for tool in bash dirname grep cat env; do ln -sf "$(command -v "$tool")" "$work/noaws/$tool"; done
rc=0
# The interpreter itself (deploy.sh reads the zip with it), not a version manager's shim.
ln -sf "$(python3 -c 'import sys; print(sys.executable)')" "$work/noaws/python3"
env PATH="$work/noaws" bash "$repo/scripts/deploy.sh" echo --role "$role" >"$work/out" 2>&1 || rc=$?
if [[ $rc != 0 ]] && grep -q "AWS CLI" "$work/out"; then ok "missing AWS CLI: refused with a message"
else not_ok "missing AWS CLI: refused with a message (rc=$rc, output: $(cat "$work/out"))"; fi
check "missing AWS CLI: function echo not created" bash -c '! aws lambda get-function --function-name echo >/dev/null 2>&1'

# Needs a role to create: this one does reach AWS (to learn that the function
# is missing) but must not create anything.
rc=0
"$repo/scripts/deploy.sh" echo >"$work/out" 2>&1 || rc=$?
if [[ $rc != 0 ]] && grep -q -- "--role ARN .* is required" "$work/out"; then ok "no --role on create: refused with a message"
else not_ok "no --role on create: refused with a message (rc=$rc, output: $(cat "$work/out"))"; fi
check "no --role on create: makes no create-function call" bash -c "! grep -q create-function '$calls'"
check "no --role on create: function echo not created" bash -c '! aws lambda get-function --function-name echo >/dev/null 2>&1'

# --- create, then update -------------------------------------------------------
: >"$calls"
rc=0
"$repo/scripts/deploy.sh" echo --role "$role" --memory 256 >"$work/out" 2>&1 || rc=$?
if [[ $rc == 0 ]]; then ok "first run exits 0"; else not_ok "first run exits 0 (rc=$rc: $(cat "$work/out"))"; fi
check "first run creates the function" grep -q "lambda create-function" "$calls"

: >"$calls"
rc=0
"$repo/scripts/deploy.sh" echo --memory 512 >"$work/out" 2>&1 || rc=$?
if [[ $rc == 0 ]]; then ok "second run exits 0 (no --role needed to update)"; else not_ok "second run exits 0 (rc=$rc: $(cat "$work/out"))"; fi
check "second run updates the code" grep -q "lambda update-function-code" "$calls"
check "second run updates the configuration" grep -q "lambda update-function-configuration" "$calls"
check "second run creates nothing" bash -c "! grep -q create-function '$calls'"

config="$(aws lambda get-function-configuration --function-name echo --output json)"
field() { "$VENV/bin/python" -c 'import json, sys; c = json.load(sys.stdin); print(json.dumps(c.get(sys.argv[1])))' "$1" <<<"$config"; }
check "Runtime is provided.al2023" test "$(field Runtime)" == '"provided.al2023"'
check "Handler is the function name" test "$(field Handler)" == '"echo"'
check "Architectures is [arm64]" test "$(field Architectures)" == '["arm64"]'
check "CodeSize is the zip's size ($zip_size bytes)" test "$(field CodeSize)" == "$zip_size"
check "MemorySize follows the second run" test "$(field MemorySize)" == "512"

# --name deploys the same package under another name.
rc=0
"$repo/scripts/deploy.sh" echo --name echo-staging --role "$role" >"$work/out" 2>&1 || rc=$?
check "--name creates a function of that name" function_exists echo-staging
check "--name keeps the handler = function" test "$(aws lambda get-function-configuration --function-name echo-staging --query Handler --output text)" == "echo"

# --- a user's own zip under a name of its own: create, then update -------------
: >"$calls"
rc=0
"$repo/scripts/deploy.sh" --zip "$user/v1.zip" --name orders --arch x86_64 --role "$role" >"$work/out" 2>&1 || rc=$?
if [[ $rc == 0 ]]; then ok "--zip: first run exits 0"; else not_ok "--zip: first run exits 0 (rc=$rc: $(cat "$work/out"))"; fi
check "--zip: first run creates the function" grep -q "lambda create-function --function-name orders" "$calls"
config="$(aws lambda get-function-configuration --function-name orders --output json)"
check "--zip: Runtime is provided.al2023" test "$(field Runtime)" == '"provided.al2023"'
check "--zip: Handler is bootstrap" test "$(field Handler)" == '"bootstrap"'
check "--zip: Architectures is [x86_64]" test "$(field Architectures)" == '["x86_64"]'
check "--zip: CodeSize is the zip's size ($(stat -c %s "$user/v1.zip") bytes)" \
    test "$(field CodeSize)" == "$(stat -c %s "$user/v1.zip")"

: >"$calls"
rc=0
"$repo/scripts/deploy.sh" --zip "$user/v2.zip" --name orders --arch x86_64 --memory 512 >"$work/out" 2>&1 || rc=$?
if [[ $rc == 0 ]]; then ok "--zip: second run exits 0 (no --role needed to update)"; else not_ok "--zip: second run exits 0 (rc=$rc: $(cat "$work/out"))"; fi
check "--zip: second run updates the code" grep -q "lambda update-function-code --function-name orders" "$calls"
check "--zip: second run creates nothing" bash -c "! grep -q create-function '$calls'"
config="$(aws lambda get-function-configuration --function-name orders --output json)"
check "--zip: Handler is still bootstrap" test "$(field Handler)" == '"bootstrap"'
check "--zip: Architectures is still [x86_64]" test "$(field Architectures)" == '["x86_64"]'
check "--zip: CodeSize is the new zip's size ($(stat -c %s "$user/v2.zip") bytes)" \
    test "$(field CodeSize)" == "$(stat -c %s "$user/v2.zip")"
check "--zip: MemorySize follows the second run" test "$(field MemorySize)" == "512"

rc=0
"$repo/scripts/deploy.sh" --zip "$user/arm64.zip" --name orders-arm --handler orders --role "$role" >"$work/out" 2>&1 || rc=$?
config="$(aws lambda get-function-configuration --function-name orders-arm --output json 2>/dev/null || echo '{}')"
check "--zip with --handler: Handler is the one given" test "$(field Handler)" == '"orders"'
check "--zip of an arm64 binary: Architectures is [arm64] (the default)" test "$(field Architectures)" == '["arm64"]'

# --- an extension's layer: publish it, then a function that uses it -------------
publish_layer() { # publish_layer OUTPUT-FILE deploy-args...: the ARN is the one line on stdout
    local out="$1"; shift
    local rc=0
    "$repo/scripts/deploy.sh" "$@" >"$out" 2>"$work/err" || rc=$?
    [[ $rc == 0 ]] || echo "deploy.sh $* exited $rc: $(cat "$work/err")" >&2
    return $rc
}
arn_of() { # arn_of NAME VERSION
    echo "arn:aws:lambda:us-east-1:123456789012:layer:$1:$2"
}
: >"$calls"
check "--layer invocation-summary: publishes (exit 0)" publish_layer "$work/arn1" --layer invocation-summary
arn1="$(cat "$work/arn1")"
check "--layer: prints the LayerVersionArn alone on stdout (got '$arn1')" test "$arn1" == "$(arn_of invocation-summary 1)"
check "--layer: one publish-layer-version call" test "$(grep -c 'lambda publish-layer-version --layer-name invocation-summary' "$calls")" == 1
layer_version="$(aws lambda get-layer-version --layer-name invocation-summary --version-number 1 --output json 2>/dev/null || echo "{}")"
lfield() { "$VENV/bin/python" -c 'import json, sys; c = json.load(sys.stdin); print(json.dumps(c.get(sys.argv[1])))' "$1" <<<"$layer_version"; }
check "--layer: CompatibleRuntimes is [provided.al2023]" test "$(lfield CompatibleRuntimes)" == '["provided.al2023"]'
check "--layer: CompatibleArchitectures is [arm64] (the default arch)" test "$(lfield CompatibleArchitectures)" == '["arm64"]'
check "--layer: the layer's CodeSize is the zip's size" \
    test "$("$VENV/bin/python" -c 'import json, sys; print(json.load(sys.stdin).get("Content", {}).get("CodeSize"))' <<<"$layer_version")" == "$(stat -c %s "$layer_zip")"
check "--layer again: publishes version 2" publish_layer "$work/arn2" --layer invocation-summary
check "--layer again: prints version 2's ARN" test "$(cat "$work/arn2")" == "$(arn_of invocation-summary 2)"
check "--zip PATH --layer NAME: a user's layer for x86_64" publish_layer "$work/arn-logs" --zip "$user/layer.zip" --layer logs --arch x86_64
check "--zip PATH --layer NAME: prints its ARN" test "$(cat "$work/arn-logs")" == "$(arn_of logs 1)"

layer_arns_of() { aws lambda get-function-configuration --function-name "$1" --query 'Layers[].Arn' --output text | tr '\t' ' '; }
rc=0
"$repo/scripts/deploy.sh" echo --name echo-summary --role "$role" --layers "$arn1" >"$work/out" 2>&1 || rc=$?
if [[ $rc == 0 ]]; then ok "--layers: creates a function with the layer (exit 0)"; else not_ok "--layers: creates a function with the layer (rc=$rc: $(cat "$work/out"))"; fi
check "--layers: the function's Layers is the layer version published" test "$(layer_arns_of echo-summary)" == "$arn1"
"$repo/scripts/deploy.sh" echo --name echo-summary --layers "$(cat "$work/arn2"),$arn1" >"$work/out" 2>&1 || true
check "--layers on update: the function's Layers are the two given, in order" \
    test "$(layer_arns_of echo-summary)" == "$(cat "$work/arn2") $arn1"
"$repo/scripts/deploy.sh" echo --name echo-summary --memory 256 >"$work/out" 2>&1 || true
check "an update without --layers keeps the function's layers" \
    test "$(layer_arns_of echo-summary)" == "$(cat "$work/arn2") $arn1"

finish
