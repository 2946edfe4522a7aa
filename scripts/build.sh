#!/usr/bin/env bash
# Builds every shipped function as a static Lambda `bootstrap` and packages it:
#   target/lambda/<arch>/<function>/bootstrap       the binary (x86_64 or arm64)
#   target/lambda/<arch>/<function>/bootstrap.zip   what Lambda takes: bootstrap at the root, 0755
#
# Each function's binary holds only its own handler (`bootstrap/src/bin/<function>.rs`). Binaries are linked with the
# rust-lld that ships with Rust against Rust's bundled musl: no C cross toolchain is needed.
# Zips are reproducible: the same commit gives the same bytes (see SOURCE_DATE_EPOCH below).
set -euo pipefail

readonly ALL_FUNCTIONS=(echo fibonacci error panic context hello)
readonly ALL_ARCHES=(x86_64 arm64)

usage() {
    cat <<EOF
Usage: scripts/build.sh [--arch x86_64|arm64|all] [--function NAME]... [--clean]

Builds static Lambda bootstraps and writes target/lambda/<arch>/<function>/bootstrap.zip.

  --arch ARCH       x86_64, arm64 or all (default: all)
  --function NAME   a function to build; repeat for several (default: all of
                    ${ALL_FUNCTIONS[*]})
  --clean           first delete the selected arches' outputs and musl build caches
  -h, --help        show this help

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
arches=()
functions=()
clean=false
while (($#)); do
    case "$1" in
        --arch | --arch=*)
            if [[ $1 == --arch=* ]]; then value=${1#--arch=}; else
                (($# >= 2)) || usage_error "--arch needs a value: x86_64, arm64 or all"
                value=$2
                shift
            fi
            case "$value" in
                x86_64 | arm64) arches=("$value") ;;
                all) arches=("${ALL_ARCHES[@]}") ;;
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
        --clean) clean=true ;;
        -h | --help)
            usage
            exit 0
            ;;
        *) usage_error "unknown option '$1'" ;;
    esac
    shift
done
((${#arches[@]})) || arches=("${ALL_ARCHES[@]}")
((${#functions[@]})) || functions=("${ALL_FUNCTIONS[@]}")

# --- Environment ----------------------------------------------------------------------------
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
package_py="$root/scripts/lambda_package.py"
out_root="$root/target/lambda"
target_dir=${CARGO_TARGET_DIR:-$root/target}
[[ $target_dir == /* ]] || target_dir="$root/$target_dir"

command -v cargo >/dev/null || die "cargo is not installed: see https://rustup.rs"
command -v rustup >/dev/null || die "rustup is not installed: the musl targets come from rustup"
command -v python3 >/dev/null || die "python3 is needed to check and zip the binaries"

# Zip entries get this timestamp, so the zip depends only on the binary, not on when or from
# which commit it was built. The default is the earliest time a zip can hold, 1980-01-01 UTC.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-315532800}
[[ $SOURCE_DATE_EPOCH =~ ^[0-9]+$ ]] || die "SOURCE_DATE_EPOCH='$SOURCE_DATE_EPOCH' is not a number of seconds"

cargo_home=${CARGO_HOME:-$HOME/.cargo}
rustflags=()
read -r -a rustflags <<<"${RUSTFLAGS:-}"
rustflags+=(
    # The same sources give the same binary wherever they are checked out: source paths that end
    # up in the binary (panic locations) are written relative to fixed names.
    "--remap-path-prefix=$cargo_home=/cargo"
    "--remap-path-prefix=$root=/build"
    "--remap-path-prefix=$target_dir=/target"
    # x86_64 musl binaries are static-pie; RELR packs their ~1,400 self-relocations into a few
    # hundred bytes (-34 KB for echo). musl's static-pie start-up applies RELR since 1.2.4.
    "-Clink-arg=-zpack-relative-relocs"
)
CARGO_ENCODED_RUSTFLAGS=$(IFS=$'\x1f'; echo "${rustflags[*]}")
export CARGO_ENCODED_RUSTFLAGS
unset RUSTFLAGS

installed_targets=$(rustup target list --installed)
for arch in "${arches[@]}"; do
    triple=$(triple_of "$arch")
    if ! grep -qx "$triple" <<<"$installed_targets"; then
        echo "Adding the Rust target $triple" >&2
        rustup target add "$triple"
    fi
    # rust-lld links musl targets with Rust's self-contained crt and libc: no cross gcc needed.
    linker_var="CARGO_TARGET_$(tr 'a-z-' 'A-Z_' <<<"$triple")_LINKER"
    export "$linker_var=${!linker_var:-rust-lld}"
done

if $clean; then
    for arch in "${arches[@]}"; do
        echo "Cleaning target/lambda/$arch and the $(triple_of "$arch") build cache" >&2
        rm -rf "${out_root:?}/$arch" "${target_dir:?}/$(triple_of "$arch")"
    done
fi

# --- Build, check, package ------------------------------------------------------------------
rows=()
for arch in "${arches[@]}"; do
    triple=$(triple_of "$arch")
    for function in "${functions[@]}"; do
        echo "Building $function for $arch ($triple)" >&2
        cargo build --release --locked -p bootstrap --bin "$function" \
            --target "$triple" --target-dir "$target_dir"
        out="$out_root/$arch/$function"
        mkdir -p "$out"
        # Copied at once: the next function's build writes the same cargo output path.
        cp "$target_dir/$triple/release/$function" "$out/bootstrap"
        chmod 0755 "$out/bootstrap"
        python3 "$package_py" check-elf "$out/bootstrap" "$arch" ||
            die "$out/bootstrap is not a static $arch binary"
        rm -f "$out/bootstrap.zip"
        python3 "$package_py" zip "$out/bootstrap" "$out/bootstrap.zip" "$SOURCE_DATE_EPOCH"
        python3 "$package_py" check-zip "$out/bootstrap.zip" "$out/bootstrap" ||
            die "$out/bootstrap.zip is not a valid Lambda package"
        rows+=("$function $arch $(stat -c %s "$out/bootstrap") $(stat -c %s "$out/bootstrap.zip")")
    done
done

echo
printf '%-10s %-7s %13s %13s\n' function arch "binary bytes" "zip bytes"
for row in "${rows[@]}"; do
    # shellcheck disable=SC2086 # the row is four words by construction
    printf '%-10s %-7s %13s %13s\n' $row
done
echo
echo "Packages are in ${out_root#"$root"/}/<arch>/<function>/bootstrap.zip"
