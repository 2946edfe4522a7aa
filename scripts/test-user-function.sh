#!/usr/bin/env bash
# Walks the path a user walks with a function of their own, as they would walk it:
#   1. the examples' own unit tests (cargo test in each, as their READMEs say; examples/dynamodb's
#      run in test.sh's dynamodb-example step), and cargo fmt --check on each;
#   2. a new crate made with `cargo new` in a temporary directory outside this repository, the
#      runtime and the other dependencies added with `cargo add`, the example's src/lib.rs and
#      src/bin/*.rs copied in, and the README's main.rs (between its readme-example markers, so
#      a README that stops compiling or working fails here) as its src/main.rs;
#   3. scripts/build.sh --manifest-path on that crate: static zips for x86_64 and arm64;
#   4. a crate depending on this repository by git: no error or warning from cargo;
#   5. each binary run as Lambda runs it (_HANDLER=bootstrap) against the fake Runtime API,
#      x86_64 natively and arm64 under qemu-aarch64-static (tests/tests/user_function.rs).
#
#   scripts/test-user-function.sh
#
# Installs qemu-user-static with apt when missing. Ends with "N passed, M failed"; exits 1 when
# anything failed. The temporary crate, and its build, are deleted at the end.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

source scripts/lib-check.sh
source scripts/lib-install.sh
step() { printf '\n==> %s\n' "$*"; }
# run_logged NAME LOG COMMAND...: runs the command with its output in LOG; passes when it
# succeeds, else fails and shows the end of the log.
run_logged() {
    local name=$1 log=$2
    shift 2
    if "$@" >"$log" 2>&1; then
        ok "$name"
    else
        not_ok "$name (exit $?; last lines of its output:)"
        tail -25 "$log" | sed 's/^/    /'
        return 1
    fi
}

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# The name `cargo new` gives the crate, and so the README main.rs's binary: the tests know it.
crate_name=my-function
crate="$scratch/$crate_name"
bins=("$crate_name" sqs raw)
arches=(x86_64 arm64)

ensure_commands qemu-aarch64-static:qemu-user-static

# --- 1. The examples' own tests ---------------------------------------------------------------
# Each is its own workspace, which the root's fmt and tests do not reach. (examples/dynamodb's
# tests run in test.sh's dynamodb-example step; its formatting is checked here.)
for example in sqs-batch web-api dynamodb; do
    step "examples/$example: its formatting, and its unit tests"
    run_logged "examples/$example: cargo fmt --check" "$scratch/$example-fmt.log" \
        cargo fmt --manifest-path "examples/$example/Cargo.toml" --check || true
    [[ $example == dynamodb ]] && continue
    run_logged "examples/$example: cargo test --locked" "$scratch/$example-test.log" \
        cargo test --manifest-path "examples/$example/Cargo.toml" --locked || true
    grep -E '^test result:' "$scratch/$example-test.log" | head -1 | sed 's/^/    /' || true
done

# --- 2. A user's crate, from cargo new ------------------------------------------------------------
step "a new crate outside the repository: $crate"
# The README's example between `<!-- readme-example: main.rs -->` and `<!-- /readme-example -->`,
# without its code fence.
readme_main_rs() {
    awk '/^<!-- readme-example: main.rs -->$/ { inside = 1; next }
         /^<!-- \/readme-example -->$/ { inside = 0 }
         inside' README.md | sed -e '1{/^```/d}' -e '${/^```$/d}'
}
# Called as an `if` condition, where `set -e` does not apply: every step says `|| return`.
make_crate() {
    cargo new --quiet --vcs none --name "$crate_name" "$crate" || return
    (
        cd "$crate" &&
            cargo add --quiet --path "$root/runtime" &&
            cargo add --quiet aws_lambda_events --no-default-features --features sqs &&
            cargo add --quiet serde --features derive &&
            cargo add --quiet serde_json log
    ) || return
    readme_main_rs >"$crate/src/main.rs" || return
    if ! grep -q 'fn main()' "$crate/src/main.rs"; then
        echo "README.md has no main.rs example between its readme-example markers" >&2
        return 1
    fi
    # What a user copying the example copies; the bins name the library by its crate name.
    mkdir -p "$crate/src/bin" &&
        cp examples/sqs-batch/src/lib.rs "$crate/src/" &&
        cp examples/sqs-batch/src/bin/*.rs "$crate/src/bin/" &&
        cp -r examples/sqs-batch/events "$crate/" &&
        sed -i "s/\bsqs_batch::/${crate_name//-/_}::/g" "$crate"/src/bin/*.rs
}
crate_check="cargo new + cargo add (the runtime by path, aws_lambda_events with sqs only, serde, serde_json, log), the example's lib.rs and bins, the README's main.rs"
if make_crate >"$scratch/crate.log" 2>&1; then
    ok "$crate_check"
else
    not_ok "$crate_check (last lines of its output:)"
    tail -25 "$scratch/crate.log" | sed 's/^/    /'
    finish
fi
sed -n '/^\[dependencies\]/,$p' "$crate/Cargo.toml" | sed 's/^/    /'
# The README's main.rs carries its own unit tests (a Context built directly): they run as the
# user runs them.
run_logged "the user's crate: cargo test (the README main.rs's unit tests, the example's)" \
    "$scratch/crate-test.log" cargo test --manifest-path "$crate/Cargo.toml" || true

# --- 3. Build ---------------------------------------------------------------------------------------
step "scripts/build.sh --manifest-path $crate/Cargo.toml"
build_started=$SECONDS
if ! run_logged "scripts/build.sh --manifest-path builds the user's crate for ${arches[*]}" \
    "$scratch/build.log" scripts/build.sh --manifest-path "$crate/Cargo.toml"; then
    finish
fi
echo "    built in $((SECONDS - build_started)) s"
target_dir=$(cargo metadata --manifest-path "$crate/Cargo.toml" --format-version 1 --no-deps |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
lambda_dir="$target_dir/lambda"
printf '    %-12s %-7s %12s %12s\n' binary arch "bootstrap B" "zip B"
for arch in "${arches[@]}"; do
    for bin in "${bins[@]}"; do
        dir="$lambda_dir/$arch/$bin"
        if [[ -f $dir/bootstrap && -f $dir/bootstrap.zip ]]; then
            printf '    %-12s %-7s %12s %12s\n' "$bin" "$arch" \
                "$(stat -c %s "$dir/bootstrap")" "$(stat -c %s "$dir/bootstrap.zip")"
        else
            not_ok "$arch/$bin: no bootstrap and bootstrap.zip in $dir"
        fi
    done
done

# --- 4. From git ---------------------------------------------------------------------------------
# A git dependency on this repository, the README's first install route, must be silent: cargo
# reads every manifest in the checkout while it looks for the package, so one it cannot parse
# anywhere in the tree prints an error on every cargo command in the user's crate. (It sees what
# is committed: the clone CI runs on.)
step "a crate depending on this repository by git: cargo add --git, cargo metadata"
git_dependency() {
    cargo new --quiet --vcs none --name from-git "$scratch/from-git" || return
    cd "$scratch/from-git" &&
        cargo add --quiet --git "file://$root" lambda-blocking-rt &&
        cargo metadata --format-version 1 >/dev/null
}
if (git_dependency) >"$scratch/git.log" 2>&1 && ! grep -E '^(error|warning)' "$scratch/git.log" >/dev/null; then
    ok "cargo add --git file://$root lambda-blocking-rt and cargo metadata: no error or warning"
else
    not_ok "a git dependency on this repository printed an error or warning:"
    grep -E -A4 '^(error|warning)' "$scratch/git.log" | head -20 | sed 's/^/    /'
fi

# --- 5. Run -----------------------------------------------------------------------------------------
for arch in "${arches[@]}"; do
    runner=natively
    [[ $arch == arm64 ]] && runner="under qemu-aarch64-static"
    step "$arch, $runner: tests/tests/user_function.rs against the fake Runtime API"
    log="$scratch/run-$arch.log"
    status=0
    USER_FUNCTION_LAMBDA_DIR="$lambda_dir" USER_FUNCTION_ARCH="$arch" \
        cargo test --locked -p lambda-blocking-rt-tests --test user_function -- --ignored \
        >"$log" 2>&1 || status=$?
    # One check per test, as libtest reports it.
    results=$(sed -n 's/^test \([a-z0-9_]*\) \.\.\. \(ok\|FAILED\)$/\2 \1/p' "$log")
    while read -r outcome name; do
        [[ -n $name ]] || continue
        if [[ $outcome == ok ]]; then ok "$arch: $name"; else not_ok "$arch: $name"; fi
    done <<<"$results"
    if ((status != 0)); then
        [[ -n $results ]] || not_ok "$arch: cargo test --test user_function (exit $status, no test ran)"
        sed -n '/^failures:$/,/^test result:/p' "$log" | head -60 | sed 's/^/    /'
        [[ -n $results ]] || tail -25 "$log" | sed 's/^/    /'
    fi
done

finish
