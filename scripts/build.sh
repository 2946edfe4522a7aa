#!/usr/bin/env bash
# Static Lambda zips, by `cargo lambda-zip` from this checkout (cargo-lambda-zip/, built here
# first; nothing installed):
#
#   scripts/build.sh [OPTION]...                      the shipped functions, into
#                                                     target/lambda/<arch>/<function>/bootstrap.zip,
#                                                     and the shipped extensions' layers, into
#                                                     target/lambda/<arch>/<extension>/extension.zip
#   scripts/build.sh --extension [OPTION]...          the shipped extensions' layers only
#   scripts/build.sh --manifest-path PATH [OPTION]... any Cargo project's binaries, into
#                                                     <its target dir>/lambda/<arch>/<bin>/bootstrap.zip
#
# OPTIONs are the tool's, passed as they are (`cargo lambda-zip --help`): --arch x86_64|arm64,
# --bin NAME (--function NAME is the same; with --extension, NAME is an extension), --tiny,
# --features, --include, ... The shipped functions are the files of bootstrap/src/bin/, the
# shipped extensions those of extension/src/bin/: those folders are their lists.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
command -v cargo >/dev/null || { echo "build.sh: cargo is not installed: see https://rustup.rs" >&2; exit 1; }

lambda_zip() {
    cargo run --quiet --locked --manifest-path "$root/Cargo.toml" -p cargo-lambda-zip -- "$@"
}

args=()
own_project=false
chose_bins=false
extensions_only=false
while (($#)); do
    case "$1" in
        --function) args+=(--bin) chose_bins=true ;;
        --function=*) args+=("--bin=${1#--function=}") chose_bins=true ;;
        --bin | --bin=*) args+=("$1") chose_bins=true ;;
        --manifest-path | --manifest-path=*) args+=("$1") own_project=true ;;
        --extension) args+=("$1") extensions_only=true ;;
        -h | --help)
            echo "Usage: scripts/build.sh [--manifest-path PATH] [cargo lambda-zip's options]"
            echo "Without --manifest-path: the shipped functions ($(cd "$root/bootstrap/src/bin" && ls -- *.rs | sed 's/\.rs$//' | tr '\n' ' '))"
            echo "into target/lambda/<arch>/<function>/, and unless --bin/--function chooses functions, the shipped"
            echo "extensions' layers ($(cd "$root/extension/src/bin" && ls -- *.rs | sed 's/\.rs$//' | tr '\n' ' ')) into"
            echo "target/lambda/<arch>/<extension>/ (--extension: those alone). The options, as cargo lambda-zip takes them:"
            echo
            lambda_zip --help
            exit 0
            ;;
        *) args+=("$1") ;;
    esac
    shift
done

if $own_project; then
    lambda_zip "${args[@]}"
    exit
fi

# Always this checkout's target/lambda, even with CARGO_TARGET_DIR set: deploy.sh, the SAM
# template and the arm64 tests read the packages there.
shipped=(--locked --out-dir "$root/target/lambda")
if ! $extensions_only; then
    # The `bootstrap` binary (every handler in one, chosen by _HANDLER) is not shipped: each
    # function is its own binary.
    exec_args=(--manifest-path "$root/bootstrap/Cargo.toml" "${shipped[@]}")
    if ! $chose_bins; then
        for source in "$root"/bootstrap/src/bin/*.rs; do
            name=${source##*/}
            exec_args+=(--bin "${name%.rs}")
        done
    fi
    lambda_zip "${exec_args[@]}" ${args[@]+"${args[@]}"}
fi
# The shipped extensions' layers (deploy.sh --layer and template.yaml read them there), unless
# functions were chosen.
if $extensions_only || ! $chose_bins; then
    lambda_zip --manifest-path "$root/extension/Cargo.toml" --extension "${shipped[@]}" ${args[@]+"${args[@]}"}
fi
