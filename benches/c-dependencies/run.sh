#!/usr/bin/env bash
# Build time and size of examples/dynamodb (the AWS SDK with default features: aws-lc-sys and
# ring compile C) with cargo lambda-zip against `cargo lambda build` (zig too), per arch, side by
# side in one run: cold (empty target dir) then warm (deps built, src/main.rs touched).
#
#   benches/c-dependencies/run.sh [OUT_DIR]    default OUT_DIR: benches/results/c-dependencies
#
# Writes OUT_DIR/raw.csv (every timing and size) and OUT_DIR/README.md (the table). Installs
# cargo-lambda into target/venv when it is missing. Takes 20-40 minutes on 2 cores.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source scripts/lib-venv.sh
out=${1:-benches/results/c-dependencies}
mkdir -p "$out"
ensure_venv cargo-lambda
export PATH="$VENV/bin:$PATH"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r examples/dynamodb "$work/app"
rm -rf "$work/app/target"
sed -i "s|path = \"../../runtime\"|path = \"$root/runtime\"|" "$work/app/Cargo.toml"
cargo build --quiet --release --locked -p cargo-lambda-zip
tool="$root/target/release/cargo-lambda-zip"

csv="$out/raw.csv"
echo "tool,arch,cache,seconds,binary_bytes,zip_bytes" >"$csv"
seconds() { python3 -c 'import time; print(f"{time.monotonic():.3f}")'; }

build() { # build TOOL ARCH CACHE
    local who=$1 arch=$2 cache=$3 triple started ended bin zip
    case $arch in x86_64) triple=x86_64-unknown-linux-musl ;; arm64) triple=aarch64-unknown-linux-musl ;; esac
    local target="$work/target-$who-$arch"
    [[ $cache == warm ]] && touch "$work/app/src/main.rs"
    started=$(seconds)
    if [[ $who == lambda-zip ]]; then
        CARGO_TARGET_DIR="$target" "$tool" --manifest-path "$work/app/Cargo.toml" --arch "$arch" \
            >"$work/$who-$arch-$cache.log" 2>&1
        bin="$target/lambda/$arch/dynamodb/bootstrap"
        zip="$target/lambda/$arch/dynamodb/bootstrap.zip"
    else
        (cd "$work/app" && CARGO_TARGET_DIR="$target" cargo lambda build --release \
            --target "$triple" --output-format zip) >"$work/$who-$arch-$cache.log" 2>&1
        (cd "$work/app" && CARGO_TARGET_DIR="$target" cargo lambda build --release \
            --target "$triple") >>"$work/$who-$arch-$cache.log" 2>&1
        zip="$target/lambda/dynamodb/bootstrap.zip"
        bin="$target/lambda/dynamodb/bootstrap"
    fi
    ended=$(seconds)
    local took
    took=$(python3 -c "print(f'{$ended - $started:.1f}')")
    echo "$who,$arch,$cache,$took,$(stat -c %s "$bin"),$(stat -c %s "$zip")" | tee -a "$csv"
}

for arch in x86_64 arm64; do
    for cache in cold warm; do
        build lambda-zip "$arch" "$cache"
        build cargo-lambda "$arch" "$cache"
    done
done
python3 - "$csv" "$out/README.md" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
get = lambda tool, arch, cache: next(r for r in rows if r["tool"] == tool and r["arch"] == arch and r["cache"] == cache)
lines = ["# examples/dynamodb: cargo lambda-zip against cargo lambda build", "",
         "Written by `benches/c-dependencies/run.sh`; raw figures in `raw.csv`. Same crate, same",
         "machine, one run, builds interleaved. cargo lambda build's binary is the one its zip holds",
         "(its users' release profile as it is); ours uses the size profile cargo lambda-zip applies.", "",
         "| arch | figure | cargo lambda-zip | cargo lambda build | ratio |", "| --- | --- | --: | --: | --: |"]
for arch in ("x86_64", "arm64"):
    for label, cache, key in (("build, cold (s)", "cold", "seconds"), ("build, warm (s)", "warm", "seconds"),
                              ("binary (bytes)", "cold", "binary_bytes"), ("zip (bytes)", "cold", "zip_bytes")):
        ours, theirs = float(get("lambda-zip", arch, cache)[key]), float(get("cargo-lambda", arch, cache)[key])
        fmt = (lambda v: f"{v:.1f}") if key == "seconds" else (lambda v: f"{int(v):,}")
        lines.append(f"| {arch} | {label} | {fmt(ours)} | {fmt(theirs)} | {ours / theirs:.2f} |")
open(sys.argv[2], "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
