#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ for a few seconds, starting from its committed corpus, and fails
# if any of them crashes or breaks an invariant. A smoke test, not a fuzzing campaign: see
# fuzz/README.md for the long runs.
#
#   scripts/fuzz-smoke.sh              # 10 s per target
#   FUZZ_SECONDS=60 scripts/fuzz-smoke.sh
#
# Needs the nightly toolchain and cargo-fuzz; installs them when missing (cargo-fuzz into
# target/tools).
set -uo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-10}"
# Bounded in executions too, so a fast machine does not turn the smoke test into a campaign.
max_runs="${FUZZ_RUNS:-1000000}"

if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal || exit 1
fi
# cargo-fuzz goes under target/ (not ~/.cargo/bin): what the tests install stays in the checkout.
tools="$PWD/target/tools"
export PATH="$tools/bin:$PATH"
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked --root "$tools" || exit 1
fi

# fuzz/ is its own workspace with its own Cargo.lock, which cargo fuzz would rewrite silently:
# a stale one fails here instead, so running the tests never leaves the checkout dirty.
cargo metadata --locked --format-version 1 --manifest-path fuzz/Cargo.toml >/dev/null ||
    { echo "fuzz/Cargo.lock is out of date: run cargo update --workspace --manifest-path fuzz/Cargo.toml and commit it"; exit 1; }
cargo +nightly fuzz build || exit 1

# New inputs go to a scratch directory, so the committed corpus is read but never changed.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

source scripts/lib-check.sh
failures=()
for target in $(cargo +nightly fuzz list); do
    mkdir -p "$scratch/$target"
    args=(-max_total_time="$seconds" -runs="$max_runs" -timeout=10 -print_final_stats=1)
    if [[ -f "fuzz/dicts/$target.dict" ]]; then
        args+=(-dict="fuzz/dicts/$target.dict")
    fi
    echo "== $target"
    if cargo +nightly fuzz run "$target" "$scratch/$target" "fuzz/corpus/$target" -- "${args[@]}" \
        >"$scratch/$target.log" 2>&1; then
        ok "$target: no crash, every invariant held"
        grep -E '^(stat::number_of_executed_units|Done )' "$scratch/$target.log" || true
    else
        not_ok "$target"
        failures+=("$target")
        # The panic message, the input that caused it and where libFuzzer saved it.
        grep -E -A4 "panicked at|^SUMMARY|Test unit written|^Base64" "$scratch/$target.log" || tail -n 30 "$scratch/$target.log"
    fi
done

if ((failed > 0)); then
    echo "failed: ${failures[*]} (reproduce with: cargo +nightly fuzz run <target> fuzz/artifacts/<target>/<file>)"
fi
finish
