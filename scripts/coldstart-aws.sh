#!/usr/bin/env bash
# Measure cold starts on real AWS Lambda, per architecture (needs an AWS
# account and credentials; costs a few cents at most).
#
#   scripts/coldstart-aws.sh --role ARN [--function F] [--count N]
#                            [--arch x86_64|arm64]... [--region R] [--memory MB]
#                            [--payload JSON] [--keep]
#
# For each architecture: deploys target/lambda/<arch>/<F>/bootstrap.zip with
# deploy.sh as function `coldstart-<F>-<arch>`, then N times changes an
# environment variable (which makes Lambda drop its warm instances) and
# invokes once with --log-type Tail. The REPORT line of each log tail gives
# Init Duration, Duration and Max Memory Used (scripts/report_line.py);
# p50 and p99 are printed per architecture. The functions are deleted at the
# end unless --keep is given. Build first: scripts/build.sh for both arches.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SCRIPTS="$ROOT/scripts"

usage() {
    cat <<'EOF'
usage: scripts/coldstart-aws.sh --role ARN [--function F] [--count N]
                                [--arch x86_64|arm64]... [--region R] [--memory MB]
                                [--payload JSON] [--keep]
defaults: --function fibonacci, --count 20, both architectures, --memory 128,
          --payload '{"n":35}' for fibonacci and '{}' otherwise
EOF
}
die() {
    echo "coldstart-aws.sh: error: $*" >&2
    exit 2
}
need_value() { [[ $# -ge 2 && -n "$2" ]] || die "option $1 needs a value"; }

role=""
function="fibonacci"
count=20
arches=()
region=""
memory=128
payload=""
keep=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --role) need_value "$@"; role="$2"; shift 2 ;;
        --function) need_value "$@"; function="$2"; shift 2 ;;
        --count) need_value "$@"; count="$2"; shift 2 ;;
        --arch) need_value "$@"; arches+=("$2"); shift 2 ;;
        --region) need_value "$@"; region="$2"; shift 2 ;;
        --memory) need_value "$@"; memory="$2"; shift 2 ;;
        --payload) need_value "$@"; payload="$2"; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done

[[ -n "$role" ]] || { usage >&2; die "--role ARN is required (the functions' execution role)"; }
[[ "$count" =~ ^[0-9]+$ && "$count" -ge 1 ]] || die "--count must be a whole number >= 1, got '$count'"
[[ "$memory" =~ ^[0-9]+$ ]] || die "--memory must be a whole number of MB, got '$memory'"
[[ ${#arches[@]} -gt 0 ]] || arches=(x86_64 arm64)
for arch in "${arches[@]}"; do
    case "$arch" in x86_64|arm64) ;; *) die "unknown architecture '$arch'; use x86_64 or arm64" ;; esac
done
if [[ -z "$payload" ]]; then
    if [[ "$function" == fibonacci ]]; then payload='{"n":35}'; else payload='{}'; fi
fi
command -v python3 >/dev/null 2>&1 || die "python3 is needed (to read the REPORT lines); install it and try again"
python3 -c 'import json, sys; json.loads(sys.argv[1])' "$payload" 2>/dev/null || die "--payload is not valid JSON: $payload"
for arch in "${arches[@]}"; do
    zip="$ROOT/target/lambda/$arch/$function/bootstrap.zip"
    [[ -f "$zip" ]] || die "$zip is missing; run scripts/build.sh for $arch first (and check that '$function' is a shipped function)"
done
command -v aws >/dev/null 2>&1 || die "the AWS CLI ('aws') is not on PATH; install it (e.g. pip install awscli) and configure credentials"

aws_args=()
[[ -n "$region" ]] && aws_args+=(--region "$region")
# AWS CLI v2 wants the payload base64 unless told otherwise; v1 knows no such flag.
invoke_args=()
if aws --version 2>&1 | grep -q '^aws-cli/2'; then invoke_args+=(--cli-binary-format raw-in-base64-out); fi

work="$(mktemp -d "${TMPDIR:-/tmp}/coldstart.XXXXXX")"
created=()
cleanup() {
    if [[ $keep == 0 ]]; then
        local name
        for name in "${created[@]}"; do
            aws lambda delete-function --function-name "$name" "${aws_args[@]}" >/dev/null 2>&1 || true
        done
    fi
    rm -rf "$work"
}
trap cleanup EXIT

for arch in "${arches[@]}"; do
    name="coldstart-$function-$arch"
    deploy_args=("$function" --arch "$arch" --name "$name" --role "$role" --memory "$memory")
    [[ -n "$region" ]] && deploy_args+=(--region "$region")
    "$SCRIPTS/deploy.sh" "${deploy_args[@]}"
    created+=("$name")
    samples="$work/$arch.jsonl"
    : >"$samples"
    for i in $(seq 1 "$count"); do
        # A new environment means new execution environments: the next invoke is cold.
        aws lambda update-function-configuration --function-name "$name" "${aws_args[@]}" \
            --environment "Variables={COLDSTART_NONCE=$i-$RANDOM-$(date +%s%N)}" >/dev/null
        aws lambda wait function-updated-v2 --function-name "$name" "${aws_args[@]}"
        aws lambda invoke --function-name "$name" "${aws_args[@]}" "${invoke_args[@]}" \
            --log-type Tail --payload "$payload" \
            --query LogResult --output text "$work/response.json" >"$work/log.b64"
        base64 -d <"$work/log.b64" >"$work/log.txt"
        if ! python3 "$SCRIPTS/report_line.py" <"$work/log.txt" >>"$samples"; then
            echo "invocation $i on $arch: could not read its REPORT line; log tail was:" >&2
            cat "$work/log.txt" >&2
            exit 1
        fi
        printf '\r%s: %d/%d' "$arch" "$i" "$count" >&2
    done
    echo >&2
done

echo
echo "function $function, memory $memory MB, $count cold starts per architecture"
for arch in "${arches[@]}"; do
    python3 "$SCRIPTS/report_line.py" --summary "$arch" <"$work/$arch.jsonl"
done
