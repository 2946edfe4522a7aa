//! Bad input is answered with one line on stderr and a non-zero exit, before anything builds
//! where it can be known before; a failed build ends with one line naming the crate.

mod common;

use std::path::Path;

use common::{Project, fixture, run, tool, toolchain_bin};

#[test]
fn outside_a_cargo_project_says_no_cargo_toml_was_found() {
    // The system temp folder, not the target dir: that one is inside this workspace.
    let empty = tempfile::tempdir().unwrap();
    let result = run(tool().current_dir(empty.path()));
    let line = result.one_error_line(1);
    assert!(line.contains("no Cargo.toml in"), "{line}");
    assert!(line.contains(&empty.path().display().to_string()), "{line}");
}

#[test]
fn manifest_path_that_does_not_exist_is_named() {
    let empty = tempfile::tempdir().unwrap();
    let missing = empty.path().join("nowhere/Cargo.toml");
    let result = run(tool().arg("--manifest-path").arg(&missing));
    let line = result.one_error_line(1);
    assert_eq!(
        line,
        format!("error: --manifest-path {}: no such file", missing.display())
    );
}

#[test]
fn manifest_that_does_not_parse_gives_cargos_reason_in_one_line() {
    let project = Project::with_manifest("bad-manifest", "[package\nname = \"bad-manifest\"\n");
    let result = run(&mut project.tool(["--arch", "x86_64"]));
    let line = result.one_error_line(1);
    assert!(line.contains("cannot read the Cargo project at"), "{line}");
    assert!(line.contains("unclosed table, expected `]` at "), "{line}");
    assert!(line.ends_with("Cargo.toml:1:9"), "{line}");
}

#[test]
fn package_without_a_binary_is_refused() {
    let project = Project::copy_of("lib-only");
    let result = run(&mut project.tool(["--arch", "x86_64"]));
    let line = result.one_error_line(1);
    assert!(
        line.contains("the package lib-only has no binary target"),
        "{line}"
    );
}

#[test]
fn unknown_bin_lists_the_binaries_that_exist() {
    let project = Project::copy_of("two-bins");
    let result = run(&mut project.tool(["--bin", "gamma"]));
    let line = result.one_error_line(1);
    assert_eq!(
        line,
        "error: no binary target named 'gamma': the binaries are alpha, beta"
    );
    assert!(
        !project.path().join("target").exists(),
        "nothing should have been built"
    );
}

#[test]
fn unknown_bin_in_a_virtual_workspace_lists_every_members_binaries() {
    let project = Project::copy_of("virtual-workspace");
    let result = run(&mut project.tool(["--bin", "web"]));
    let line = result.one_error_line(1);
    assert_eq!(
        line,
        "error: no binary target named 'web': the binaries are api, worker"
    );
}

#[test]
fn openssl_through_native_tls_is_refused_before_building_naming_the_dependency() {
    let project = Project::copy_of("native-tls");
    let result = run(&mut project.tool(["--arch", "x86_64"]));
    let line = result.one_error_line(1);
    assert!(
        line.contains("openssl-sys needs the system OpenSSL"),
        "{line}"
    );
    assert!(
        line.contains("your dependency reqwest pulls it in"),
        "{line}"
    );
    assert!(
        line.contains("app → reqwest → native-tls → openssl-sys"),
        "{line}"
    );
    // The advice builds: tests/native-crates has exactly this dependency.
    assert!(
        line.contains("openssl = { version = \"0.10\", features = [\"vendored\"] }"),
        "{line}"
    );
    let musl = project.path().join("target/x86_64-unknown-linux-musl");
    assert!(!musl.exists(), "nothing should have been compiled");
}

#[test]
fn failing_build_script_is_one_line_with_its_reason_and_the_log_not_its_output() {
    let project = Project::copy_of("sys-build-fails");
    let result = run(&mut project.tool(["--arch", "x86_64"]));
    let line = result.last_error_line();
    assert!(
        line.contains("the build script of libfoo-sys failed for x86_64-unknown-linux-musl"),
        "{line}"
    );
    assert!(
        line.contains("app depends on it directly (app → libfoo-sys)"),
        "{line}"
    );
    // The last line it wrote to stderr is the reason; the log has all of it.
    assert!(
        line.contains(": libfoo not found: set LIBFOO_DIR or install libfoo-dev for the target"),
        "{line}"
    );
    let log = project.path().join("target/lambda-zip/build-x86_64.log");
    assert!(
        line.ends_with(&format!("(its whole output: {})", log.display())),
        "{line}"
    );
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("LIBFOO_SEARCH_199"), "{logged}");
    // The script's 200 lines of look-ups are in the log, not on the terminal.
    assert!(
        !result.stderr.contains("LIBFOO_SEARCH_"),
        "{}",
        result.stderr
    );
    assert!(result.stderr.lines().count() < 40, "{}", result.stderr);
}

#[test]
fn c_that_does_not_compile_is_one_line_with_the_compilers_error() {
    let project = Project::copy_of("c-broken");
    let result = run(&mut project.tool(["--arch", "arm64"]));
    let line = result.last_error_line();
    assert!(
        line.contains("the build script of c-broken failed for aarch64-unknown-linux-musl"),
        "{line}"
    );
    assert!(
        line.contains("src/broken.c:1:10: fatal error: 'missing.h' file not found"),
        "{line}"
    );
    assert!(line.contains("build-arm64.log)"), "{line}");
    // cc-rs's environment look-ups and the compiler's command line stay in the log.
    assert!(!result.stderr.contains("CC_aarch64"), "{}", result.stderr);
    assert!(result.stderr.lines().count() < 40, "{}", result.stderr);
}

/// Runs the tool on `two-bins` with the stand-in rustc, whose sysroot has no targets, so the
/// tool has to add one; `path` is the PATH it runs with.
fn run_with_no_target_installed(path: &std::ffi::OsStr) -> common::Run {
    let project = Project::copy_of("two-bins");
    let empty_sysroot = tempfile::tempdir().unwrap();
    let bin = toolchain_bin();
    run(project
        .tool(["--arch", "x86_64"])
        .env("PATH", path)
        .env("CARGO", bin.join("cargo"))
        .env("RUSTC", fixture("stand-ins/rustc"))
        .env("REAL_RUSTC", bin.join("rustc"))
        .env("EMPTY_SYSROOT", empty_sysroot.path()))
}

#[test]
fn rustup_that_cannot_add_the_target_gives_its_reason_in_one_line() {
    let stand_ins = fixture("stand-ins");
    let path = std::env::join_paths(
        std::iter::once(stand_ins).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let result = run_with_no_target_installed(&path);
    let line = result.one_error_line(1);
    assert_eq!(
        line,
        "error: the Rust target x86_64-unknown-linux-musl is missing and `rustup target add x86_64-unknown-linux-musl` failed: \
         could not download file from 'https://static.rust-lang.org/dist/rust-std.tar.xz': stand-in rustup has no network"
    );
}

#[test]
fn missing_target_without_rustup_says_to_install_rustup() {
    // PATH without any folder that has rustup (its proxies live beside it).
    let path = std::env::join_paths(
        std::env::split_paths(&std::env::var_os("PATH").unwrap())
            .filter(|dir| !dir.join("rustup").exists()),
    )
    .unwrap();
    let result = run_with_no_target_installed(&path);
    let line = result.one_error_line(1);
    assert!(
        line.contains("the Rust target x86_64-unknown-linux-musl is not installed and rustup"),
        "{line}"
    );
    assert!(
        line.contains("install rustup (https://rustup.rs)"),
        "{line}"
    );
}

#[test]
fn unknown_arch_is_a_usage_error_with_exit_code_2() {
    let result = run(tool().args(["--arch", "mips"]).current_dir(Path::new("/")));
    let line = result.one_error_line(2);
    assert!(
        line.contains("unknown arch 'mips': expected x86_64, arm64 or all"),
        "{line}"
    );
}

#[test]
fn source_date_epoch_that_is_not_a_number_is_refused() {
    let project = Project::copy_of("two-bins");
    let result = run(project
        .tool(["--arch", "x86_64"])
        .env("SOURCE_DATE_EPOCH", "yesterday"));
    let line = result.one_error_line(1);
    assert_eq!(
        line,
        "error: SOURCE_DATE_EPOCH='yesterday' is not a whole number of seconds since 1970"
    );
}

#[test]
fn config_values_reach_cargo_after_the_tools_own() {
    // The tool sets profile.release.opt-level="z"; the user's value comes later and wins, so an
    // invalid one is cargo's error, before anything compiles.
    let project = Project::copy_of("two-bins");
    let result = run(&mut project.tool([
        "--arch",
        "x86_64",
        "--config",
        "profile.release.opt-level=\"fast\"",
    ]));
    let with_valid_value = run(&mut project.tool([
        "--arch",
        "x86_64",
        "--config",
        "profile.release.opt-level=\"s\"",
    ]));
    assert_eq!(
        with_valid_value.code,
        Some(0),
        "{}",
        with_valid_value.stderr
    );
    assert_eq!(result.code, Some(1), "{}", result.stderr);
    assert!(
        result.stderr.contains("opt-level") && result.stderr.contains("fast"),
        "{}",
        result.stderr
    );
}
