#!/usr/bin/env bash
# Deploy a function to AWS Lambda (provided.al2023) from a zip holding its
# `bootstrap`: one of the shipped functions, from the zip scripts/build.sh
# wrote, or any zip at all, such as your own function's. Creates the function
# when it does not exist, otherwise updates its code and then its configuration.
# Or publish an external extension's layer (a zip holding extensions/<name>)
# and print its LayerVersionArn, for --layers.
#
#   scripts/deploy.sh FUNCTION [options]              a shipped function, from
#                                                     target/lambda/<arch>/FUNCTION/bootstrap.zip
#   scripts/deploy.sh --zip PATH --name NAME [options]  any zip with bootstrap at its root
#   scripts/deploy.sh --layer NAME [--zip PATH] [--arch A] [--region R] [--endpoint-url URL]
#                                                     a layer, by default the shipped extension's
#                                                     target/lambda/<arch>/NAME/extension.zip
#
#   options: [--arch x86_64|arm64] [--name NAME] [--handler H] [--role ARN]
#            [--layers ARN[,ARN]] [--region R] [--memory MB] [--endpoint-url URL]
#
# Every check on the input (the zip too: it must hold an executable bootstrap
# at its root, or executables under extensions/ for a layer, built for --arch)
# runs before the first AWS call, so a typo never leaves a half-deployed function.
# AWS_ENDPOINT_URL (or --endpoint-url) points the AWS CLI at a local emulator such as moto.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The shipped functions and extensions: one per file of bootstrap/src/bin/ and of
# extension/src/bin/, their one list.
bin_names() { local source; for source in "$1"/*.rs; do source=${source##*/}; echo "${source%.rs}"; done; }
mapfile -t KNOWN_FUNCTIONS < <(bin_names "$ROOT/bootstrap/src/bin")
mapfile -t KNOWN_EXTENSIONS < <(bin_names "$ROOT/extension/src/bin")

usage() {
    cat <<EOF
usage: scripts/deploy.sh FUNCTION [options]
       scripts/deploy.sh --zip PATH --name NAME [options]
       scripts/deploy.sh --layer NAME [--zip PATH] [--arch A] [--region R] [--endpoint-url URL]
FUNCTION is a shipped function: ${KNOWN_FUNCTIONS[*]}
         (its zip is target/lambda/<arch>/FUNCTION/bootstrap.zip, from scripts/build.sh)
--zip    any zip with an executable bootstrap at its root, e.g. your own function's
--layer  publish a layer version (provided.al2023, --arch) named NAME and print its
         LayerVersionArn; without --zip, the shipped extension NAME (${KNOWN_EXTENSIONS[*]}):
         target/lambda/<arch>/NAME/extension.zip, from scripts/build.sh. A layer's zip
         holds executables under extensions/
options: --arch x86_64|arm64   (default arm64; must match the binary in the zip)
         --name NAME           the Lambda function's name (default: FUNCTION; required with --zip)
         --handler H           the Handler setting, seen by the bootstrap as _HANDLER
                               (default: FUNCTION, or bootstrap with --zip)
         --role ARN            the execution role; required when the function does not exist yet
         --layers ARN[,ARN]    layer versions the function uses (up to 5), e.g. from --layer;
                               on update, without --layers the function keeps its layers
         --region R  --memory MB  --endpoint-url URL
EOF
}

die() {
    echo "deploy.sh: error: $*" >&2
    exit 2
}

function=""
zip=""
arch="arm64"
name=""
handler=""
role=""
region=""
memory=""
layer=""
layers=""
endpoint="${AWS_ENDPOINT_URL:-}"

need_value() { [[ $# -ge 2 && -n "$2" ]] || die "option $1 needs a value"; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --zip) need_value "$@"; zip="$2"; shift 2 ;;
        --arch) need_value "$@"; arch="$2"; shift 2 ;;
        --name) need_value "$@"; name="$2"; shift 2 ;;
        --handler) need_value "$@"; handler="$2"; shift 2 ;;
        --role) need_value "$@"; role="$2"; shift 2 ;;
        --region) need_value "$@"; region="$2"; shift 2 ;;
        --memory) need_value "$@"; memory="$2"; shift 2 ;;
        --layer) need_value "$@"; layer="$2"; shift 2 ;;
        --layers) need_value "$@"; layers="$2"; shift 2 ;;
        --endpoint-url) need_value "$@"; endpoint="$2"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        -*) die "unknown option: $1 (see scripts/deploy.sh --help)" ;;
        *)
            [[ -z "$function" ]] || die "only one FUNCTION may be given (got '$function' and '$1')"
            function="$1"; shift ;;
    esac
done

case "$arch" in
    x86_64|arm64) ;;
    *) die "unknown architecture '$arch'; use x86_64 or arm64" ;;
esac

if [[ -n "$layer" ]]; then
    # A layer: none of the function's settings apply.
    [[ -z "$function" ]] || die "give either a FUNCTION or --layer NAME, not both (got '$function' and --layer $layer)"
    for option in name handler role memory layers; do
        [[ -z "${!option}" ]] || die "--$option is for a function, not for --layer (publish the layer, then deploy the function with --layers ARN)"
    done
    [[ "$layer" =~ ^[A-Za-z0-9_-]{1,140}$ ]] || die "layer name '$layer' is not valid: 1 to 140 letters, digits, '-' or '_'"
    if [[ -z "$zip" ]]; then
        known=0
        for e in "${KNOWN_EXTENSIONS[@]}"; do [[ "$e" == "$layer" ]] && known=1; done
        [[ $known == 1 ]] || die "unknown extension '$layer'; shipped extensions: ${KNOWN_EXTENSIONS[*]} (for your own layer's zip: --zip PATH --layer NAME)"
        zip="$ROOT/target/lambda/$arch/$layer/extension.zip"
        [[ -f "$zip" ]] || die "no layer for '$layer' on $arch: $zip is missing; run scripts/build.sh first (for this architecture)"
    fi
    what="layer $layer"
elif [[ -n "$zip" ]]; then
    # Your own zip: the name cannot be guessed, the handler is the usual `bootstrap`.
    [[ -z "$function" ]] || die "give either a shipped FUNCTION or --zip PATH, not both (got '$function' and --zip $zip)"
    [[ -n "$name" ]] || die "--zip needs --name NAME: the name of the Lambda function to create or update"
    handler="${handler:-bootstrap}"
    what="$(basename "$zip")"
else
    [[ -n "$function" ]] || die "no FUNCTION or --zip PATH given (see scripts/deploy.sh --help)"
    known=0
    for f in "${KNOWN_FUNCTIONS[@]}"; do [[ "$f" == "$function" ]] && known=1; done
    [[ $known == 1 ]] || die "unknown function '$function'; known functions: ${KNOWN_FUNCTIONS[*]} (for your own function's zip: --zip PATH --name NAME)"
    name="${name:-$function}"
    handler="${handler:-$function}"
    what="$function"
    zip="$ROOT/target/lambda/$arch/$function/bootstrap.zip"
    [[ -f "$zip" ]] || die "no package for '$function' on $arch: $zip is missing; run scripts/build.sh first (for this architecture)"
fi

if [[ -z "$layer" ]]; then
    # What create-function accepts as a name (an ARN would do for an update, but
    # not for a create).
    [[ "$name" =~ ^[A-Za-z0-9_-]{1,64}$ ]] || die "function name '$name' is not valid: 1 to 64 letters, digits, '-' or '_'"
fi

if [[ -n "$memory" && ! "$memory" =~ ^[0-9]+$ ]]; then
    die "--memory must be a whole number of MB, got '$memory'"
fi

layer_arns=()
if [[ -n "$layers" ]]; then
    IFS=, read -r -a layer_arns <<<"$layers"
    ((${#layer_arns[@]} <= 5)) || die "--layers has ${#layer_arns[@]} layers; a function may use at most 5"
    for arn in "${layer_arns[@]}"; do
        # A layer version's ARN, as --layer prints it (a layer's ARN without :VERSION is refused by Lambda).
        [[ "$arn" =~ ^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:layer:[A-Za-z0-9_-]+:[0-9]+$ ]] ||
            die "--layers: '$arn' is not a layer version ARN (arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION)"
    done
fi

[[ -f "$zip" ]] || die "no such file: $zip"
command -v python3 >/dev/null 2>&1 || die "python3 is needed to check the zip before deploying it; install it and try again"
# Lambda starts the file named bootstrap at the root of a function's zip, and
# every file in /opt/extensions (extensions/ in a layer's zip) as an external
# extension; a zip without one, or with one it cannot execute, deploys fine
# and then fails on every invocation. Prints what is wrong in one line, or nothing.
kind="function"
[[ -n "$layer" ]] && kind="layer"
problem="$(python3 - "$zip" "$arch" "$kind" 2>&1 <<'EOF'
import sys, zipfile

path, arch, kind = sys.argv[1], sys.argv[2], sys.argv[3]
try:
    archive = zipfile.ZipFile(path)
except zipfile.BadZipFile:
    sys.exit(f"{path} is not a zip file")
except OSError as e:
    sys.exit(f"cannot read {path}: {e.strerror}")
with archive:
    names = archive.namelist()
    if kind == "function":
        executables = [n for n in names if n == "bootstrap"]
        if not executables:
            nested = [n for n in names if n.rsplit("/", 1)[-1] == "bootstrap"]
            if nested:
                where = f"it is at {nested[0]}"
            elif names:
                where = "it holds " + ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
            else:
                where = "it is empty"
            sys.exit(f"{path} has no bootstrap at its root ({where}); Lambda runs the file named bootstrap at the root of the zip")
    else:
        # Lambda starts the files directly in /opt/extensions, not those in its subfolders.
        executables = [n for n in names if n.startswith("extensions/") and n.count("/") == 1 and n != "extensions/"]
        if not executables:
            where = ("it holds " + ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")) if names else "it is empty"
            sys.exit(f"{path} has no extensions/<name> ({where}); Lambda starts the files in extensions/ of a layer as external extensions")
    for name in executables:
        info = archive.getinfo(name)
        mode = info.external_attr >> 16
        # Only zips made on Unix (create_system 3) record a mode.
        if info.create_system == 3 and mode and not mode & 0o111:
            sys.exit(f"{name} in {path} is not executable (mode {mode & 0o777:o}); chmod 755 it and zip it again")
        head = archive.open(info).read(20)
        if head[:4] == b"\x7fELF" and len(head) == 20:
            machine = int.from_bytes(head[18:20], "little" if head[5] == 1 else "big")
            built_for = {0x3E: "x86_64", 0xB7: "arm64"}.get(machine)
            if built_for is None:
                sys.exit(f"{name} in {path} is an ELF for machine {machine:#x}, neither x86_64 nor arm64")
            if built_for != arch:
                sys.exit(f"{name} in {path} is built for {built_for}, not {arch}: pass --arch {built_for}")
EOF
)" || true
[[ -z "$problem" ]] || die "$problem"

command -v aws >/dev/null 2>&1 || die "the AWS CLI ('aws') is not on PATH; install it (e.g. pip install awscli) and try again"

aws_args=()
[[ -n "$region" ]] && aws_args+=(--region "$region")
[[ -n "$endpoint" ]] && aws_args+=(--endpoint-url "$endpoint")

lambda() { aws lambda "$@" "${aws_args[@]}"; }

if [[ -n "$layer" ]]; then
    # Progress on stderr, the ARN alone on stdout: arn="$(scripts/deploy.sh --layer ...)".
    echo "publishing layer $layer ($arch, provided.al2023) from $zip" >&2
    lambda publish-layer-version --layer-name "$layer" \
        --zip-file "fileb://$zip" \
        --compatible-runtimes provided.al2023 --compatible-architectures "$arch" \
        --query LayerVersionArn --output text
    exit
fi

config_args=(--runtime provided.al2023 --handler "$handler")
[[ -n "$memory" ]] && config_args+=(--memory-size "$memory")
((${#layer_arns[@]})) && config_args+=(--layers "${layer_arns[@]}")

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
    echo "creating $name ($what, $arch, handler $handler) from $zip"
    lambda create-function --function-name "$name" \
        --architectures "$arch" --role "$role" \
        --zip-file "fileb://$zip" "${config_args[@]}" \
        --output json >/dev/null
    lambda wait function-active-v2 --function-name "$name"
else
    echo "updating code of $name ($what, $arch, handler $handler) from $zip"
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
