#!/usr/bin/env bash
# Builds static Lambda `bootstrap`s and packages them with `cargo lambda-zip` (the
# cargo-lambda-zip/ member of this workspace, built here first):
#   target/lambda/<arch>/<function>/bootstrap       the binary (x86_64 or arm64)
#   target/lambda/<arch>/<function>/bootstrap.zip   what Lambda takes: bootstrap at the root, 0755
#
# For the shipped functions (bootstrap/src/bin/<function>.rs), or for any Cargo project with
# --manifest-path. What the tool applies and checks: `cargo lambda-zip --help`, scripts/README.md.
set -euo pipefail

readonly ALL_FUNCTIONS=(echo fibonacci error panic context hello sleep stream http-stream web)
readonly ALL_ARCHES=(x86_64 arm64)

usage() {
    cat <<EOF
Usage: scripts/build.sh [--arch x86_64|arm64|all] [--function NAME]... [--clean] [--tiny]
       scripts/build.sh --manifest-path PATH [--bin NAME]... [--arch x86_64|arm64|all] [--tiny]

Builds static Lambda bootstraps with cargo lambda-zip. The first form builds the shipped
functions into target/lambda/<arch>/<function>/bootstrap.zip; the second, any Cargo
project's binaries into <its target dir>/lambda/<arch>/<bin>/bootstrap.zip.

  --arch ARCH           x86_64, arm64 or all (default: all)
  --function NAME       a shipped function to build; repeat for several (default: all of
                        ${ALL_FUNCTIONS[*]})
  --tiny                nightly Rust: build the standard library with the binary, without
                        backtrace support (about 30 % smaller; see scripts/README.md)
  --clean               first delete the selected arches' outputs and musl build caches
  --manifest-path PATH  the Cargo.toml of another project to build
  --bin NAME            with --manifest-path: a binary to build; repeat for several
  --features, -F, --no-default-features, --all-features, --include, --profile, --out-dir,
  --release, --locked, --no-native-check
                        with --manifest-path: passed to cargo lambda-zip as they are
                        (default: every binary)
  -h, --help            show this help

Environment: SOURCE_DATE_EPOCH sets the zip timestamps (default: 1980-01-01 UTC, so a
zip changes only when its binary does); CARGO_TARGET_DIR is honoured for the build cache.
EOF
}

usage_error() {
    echo "build.sh: $1" >&2
    echo "Try 'scripts/build.sh --help'." >&2
    exit 2
}

die() {
    echo "build.sh: error: $1" >&2
    exit 1
}

triple_of() {
    case "$1" in
        x86_64) echo x86_64-unknown-linux-musl ;;
        arm64) echo aarch64-unknown-linux-musl ;;
    esac
}

# --- Options --------------------------------------------------------------------------------
arch=all
functions=()
bins=()
manifest_path=
clean=false
tiny=()
# With --manifest-path, the tool's other options go to it as they are.
tool_options=()
while (($#)); do
    case "$1" in
        --arch | --arch=*)
            if [[ $1 == --arch=* ]]; then value=${1#--arch=}; else
                (($# >= 2)) || usage_error "--arch needs a value: x86_64, arm64 or all"
                value=$2
                shift
            fi
            case "$value" in
                x86_64 | arm64 | all) arch=$value ;;
                *) usage_error "unknown arch '$value': expected x86_64, arm64 or all" ;;
            esac
            ;;
        --function | --function=*)
            if [[ $1 == --function=* ]]; then value=${1#--function=}; else
                (($# >= 2)) || usage_error "--function needs a name: one of ${ALL_FUNCTIONS[*]}"
                value=$2
                shift
            fi
            [[ " ${ALL_FUNCTIONS[*]} " == *" $value "* ]] ||
                usage_error "unknown function '$value': expected one of ${ALL_FUNCTIONS[*]}"
            [[ " ${functions[*]-} " == *" $value "* ]] || functions+=("$value")
            ;;
        --manifest-path | --manifest-path=*)
            if [[ $1 == --manifest-path=* ]]; then value=${1#--manifest-path=}; else
                (($# >= 2)) || usage_error "--manifest-path needs the path of a Cargo.toml"
                value=$2
                shift
            fi
            manifest_path=$value
            ;;
        --bin | --bin=*)
            if [[ $1 == --bin=* ]]; then value=${1#--bin=}; else
                (($# >= 2)) || usage_error "--bin needs a name"
                value=$2
                shift
            fi
            bins+=("$value")
            ;;
        --clean) clean=true ;;
        --tiny) tiny=(--tiny) ;;
        -h | --help)
            usage
            exit 0
            ;;
        --features | -F | --include | --profile | --out-dir)
            (($# >= 2)) || usage_error "$1 needs a value"
            tool_options+=("$1" "$2")
            shift
            ;;
        --features=* | --include=* | --profile=* | --out-dir=* | --release | --locked | \
            --no-default-features | --all-features | --no-native-check)
            tool_options+=("$1")
            ;;
        *) usage_error "unknown option '$1'" ;;
    esac
    shift
done
if [[ -z $manifest_path ]] && ((${#tool_options[@]})); then
    usage_error "${tool_options[0]} goes with --manifest-path (cargo lambda-zip --help lists them)"
fi
if [[ -n $manifest_path ]]; then
    ((${#functions[@]} == 0)) ||
        usage_error "--function names a shipped function; with --manifest-path, choose binaries with --bin"
    ! $clean || usage_error "--clean is for the shipped functions; use cargo clean for another project"
else
    ((${#bins[@]} == 0)) ||
        usage_error "--bin goes with --manifest-path; choose shipped functions with --function"
fi
((${#functions[@]})) || functions=("${ALL_FUNCTIONS[@]}")

# --- The tool -------------------------------------------------------------------------------
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
command -v cargo >/dev/null || die "cargo is not installed: see https://rustup.rs"

# cargo-lambda-zip from this checkout, as `cargo run` builds it (the dev profile: a quick build;
# the tool's own speed does not matter). It reports its own errors, in one line.
lambda_zip() {
    cargo run --quiet --locked --manifest-path "$root/Cargo.toml" -p cargo-lambda-zip -- "$@"
}

if [[ -n $manifest_path ]]; then
    args=(--manifest-path "$manifest_path" --arch "$arch" ${tiny[@]+"${tiny[@]}"})
    args+=(${tool_options[@]+"${tool_options[@]}"})
    for bin in "${bins[@]}"; do args+=(--bin "$bin"); done
    lambda_zip "${args[@]}"
    exit
fi

# --- The shipped functions --------------------------------------------------------------------
if $clean; then
    target_dir=${CARGO_TARGET_DIR:-$root/target}
    [[ $target_dir == /* ]] || target_dir="$root/$target_dir"
    if [[ $arch == all ]]; then arches=("${ALL_ARCHES[@]}"); else arches=("$arch"); fi
    for a in "${arches[@]}"; do
        echo "Cleaning target/lambda/$a and the $(triple_of "$a") build cache" >&2
        rm -rf "${root:?}/target/lambda/$a" "${target_dir:?}/$(triple_of "$a")"
    done
fi

# Always this checkout's target/lambda, even with CARGO_TARGET_DIR set: deploy.sh, the SAM
# template and the arm64 tests read the packages there.
args=(--manifest-path "$root/bootstrap/Cargo.toml" --arch "$arch" --locked --out-dir "$root/target/lambda" ${tiny[@]+"${tiny[@]}"})
for function in "${functions[@]}"; do args+=(--bin "$function"); done
lambda_zip "${args[@]}"
