#!/usr/bin/env bash
# Deploy one shipped function to AWS Lambda (provided.al2023) from the zip
# that scripts/build.sh wrote. Creates the function when it does not exist,
# otherwise updates its code and then its configuration.
#
#   scripts/deploy.sh FUNCTION [--arch x86_64|arm64] [--name NAME] [--role ARN]
#                              [--region R] [--memory MB] [--endpoint-url URL]
#
# Every check on the input runs before the first AWS call, so a typo never
# leaves a half-deployed function. AWS_ENDPOINT_URL (or --endpoint-url) points
# the AWS CLI at a local emulator such as moto.
set -euo pipefail

KNOWN_FUNCTIONS=(echo fibonacci error panic context hello)
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() {
    cat <<EOF
usage: scripts/deploy.sh FUNCTION [--arch x86_64|arm64] [--name NAME] [--role ARN]
                         [--region R] [--memory MB] [--endpoint-url URL]
FUNCTION is one of: ${KNOWN_FUNCTIONS[*]}
--role is required when the function does not exist yet.
EOF
}

die() {
    echo "deploy.sh: error: $*" >&2
    exit 2
}

function=""
arch="arm64"
name=""
role=""
region=""
memory=""
endpoint="${AWS_ENDPOINT_URL:-}"

need_value() { [[ $# -ge 2 && -n "$2" ]] || die "option $1 needs a value"; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --arch) need_value "$@"; arch="$2"; shift 2 ;;
        --name) need_value "$@"; name="$2"; shift 2 ;;
        --role) need_value "$@"; role="$2"; shift 2 ;;
        --region) need_value "$@"; region="$2"; shift 2 ;;
        --memory) need_value "$@"; memory="$2"; shift 2 ;;
        --endpoint-url) need_value "$@"; endpoint="$2"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        -*) usage >&2; die "unknown option: $1" ;;
        *)
            [[ -z "$function" ]] || die "only one FUNCTION may be given (got '$function' and '$1')"
            function="$1"; shift ;;
    esac
done

[[ -n "$function" ]] || { usage >&2; die "no FUNCTION given"; }

known=0
for f in "${KNOWN_FUNCTIONS[@]}"; do [[ "$f" == "$function" ]] && known=1; done
[[ $known == 1 ]] || die "unknown function '$function'; known functions: ${KNOWN_FUNCTIONS[*]}"

case "$arch" in
    x86_64|arm64) ;;
    *) die "unknown architecture '$arch'; use x86_64 or arm64" ;;
esac

if [[ -n "$memory" && ! "$memory" =~ ^[0-9]+$ ]]; then
    die "--memory must be a whole number of MB, got '$memory'"
fi

name="${name:-$function}"
zip="$ROOT/target/lambda/$arch/$function/bootstrap.zip"
if [[ ! -f "$zip" ]]; then
    die "no package for '$function' on $arch: $zip is missing; run scripts/build.sh first (for this architecture)"
fi

command -v aws >/dev/null 2>&1 || die "the AWS CLI ('aws') is not on PATH; install it (e.g. pip install awscli) and try again"

aws_args=()
[[ -n "$region" ]] && aws_args+=(--region "$region")
[[ -n "$endpoint" ]] && aws_args+=(--endpoint-url "$endpoint")

lambda() { aws lambda "$@" "${aws_args[@]}"; }

config_args=(--runtime provided.al2023 --handler "$function")
[[ -n "$memory" ]] && config_args+=(--memory-size "$memory")

# get-function fails both for "does not exist" and for real errors
# (credentials, network); tell them apart by the error text.
if out="$(lambda get-function --function-name "$name" --query 'Configuration.FunctionName' --output text 2>&1)"; then
    exists=1
elif grep -q 'ResourceNotFoundException' <<<"$out"; then
    exists=0
else
    echo "$out" >&2
    die "could not look up function '$name' (see the AWS CLI error above)"
fi

if [[ $exists == 0 ]]; then
    [[ -n "$role" ]] || die "function '$name' does not exist yet: --role ARN (its execution role) is required to create it"
    echo "creating $name ($function, $arch) from $zip"
    lambda create-function --function-name "$name" \
        --architectures "$arch" --role "$role" \
        --zip-file "fileb://$zip" "${config_args[@]}" \
        --output json >/dev/null
    lambda wait function-active-v2 --function-name "$name"
else
    echo "updating code of $name ($function, $arch) from $zip"
    lambda update-function-code --function-name "$name" \
        --architectures "$arch" --zip-file "fileb://$zip" \
        --output json >/dev/null
    # A configuration update is refused while the code update is in progress.
    lambda wait function-updated-v2 --function-name "$name"
    [[ -n "$role" ]] && config_args+=(--role "$role")
    lambda update-function-configuration --function-name "$name" \
        "${config_args[@]}" --output json >/dev/null
    lambda wait function-updated-v2 --function-name "$name"
fi
echo "deployed $name"
