//! Building what is measured: ours as it ships (`scripts/build.sh`: functions, extensions, a
//! workspace member's binaries), workspace binaries and the
//! official-runtime references (`benches/official`) with cargo, all static musl.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The target every measured binary is built for.
pub const MUSL: &str = "x86_64-unknown-linux-musl";

/// The variable that picks the musl target's linker.
const LINKER_VAR: &str = "CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_LINKER";

/// The workspace root: two levels above this crate.
pub fn workspace_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// Where a release build for [`MUSL`] in `target_dir` puts `bin`.
pub fn release_binary(target_dir: &Path, bin: &str) -> PathBuf {
    target_dir.join(MUSL).join("release").join(bin)
}

/// Where `scripts/build.sh --arch x86_64` puts the shipped binary of `function`, and the
/// binary `bin` of a workspace member built with [`build_like_shipped`].
pub fn shipped(root: &Path, function: &str) -> PathBuf {
    root.join("target/lambda/x86_64")
        .join(function)
        .join("bootstrap")
}

/// Where `scripts/build.sh --arch x86_64 --extension` puts the shipped extension `extension`:
/// its layer's `extensions/<extension>`.
pub fn shipped_extension(root: &Path, extension: &str) -> PathBuf {
    root.join("target/lambda/x86_64")
        .join(extension)
        .join(extension)
}

/// `scripts/build.sh --arch x86_64 --function F…`, run in `root`: ours as it ships (through
/// `cargo lambda-zip`: its size profile, linker and flags).
pub fn build_shipped(root: &Path, functions: &[&str]) -> Result<(), String> {
    build_sh(root, &[], "--function", functions)
}

/// `scripts/build.sh --arch x86_64 --extension --bin E…`: the shipped extensions `extensions`,
/// as their layers ship them (at [`shipped_extension`]).
pub fn build_shipped_extensions(root: &Path, extensions: &[&str]) -> Result<(), String> {
    build_sh(root, &["--extension".as_ref()], "--bin", extensions)
}

/// `scripts/build.sh --arch x86_64 --manifest-path MANIFEST --bin B…`: binaries of a workspace
/// member (e.g. a harness's own function) built as ours ship, at [`shipped`].
pub fn build_like_shipped(root: &Path, manifest: &Path, bins: &[&str]) -> Result<(), String> {
    build_sh(
        root,
        &["--manifest-path".as_ref(), manifest.as_os_str()],
        "--bin",
        bins,
    )
}

/// `scripts/build.sh <first> --arch x86_64 <option> BIN…`, run in `root`.
fn build_sh(
    root: &Path,
    first: &[&std::ffi::OsStr],
    option: &str,
    bins: &[&str],
) -> Result<(), String> {
    let mut command = Command::new(root.join("scripts/build.sh"));
    command
        .current_dir(root)
        .args(first)
        .args(["--arch", "x86_64"]);
    for bin in bins {
        command.args([option, bin]);
    }
    run(&mut command, "")
}

/// How a measured binary is linked: as cargo links for the target, or with the `rust-lld` that
/// ships with Rust (self-contained musl, as `scripts/build.sh` does; a linker set in the
/// environment wins). Each harness keeps the linker its figures have always been measured with.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Linker {
    Default,
    RustLld,
}

/// The official-runtime references: one crate outside the workspace, its own lock file.
pub fn official_dir(root: &Path) -> PathBuf {
    root.join("benches/official")
}

/// The references' target directory. Those linked with `rust-lld` get one of their own: cargo
/// fingerprints the linker, so in one directory each harness would rebuild the other's
/// dependencies.
fn official_target(root: &Path, linker: Linker) -> PathBuf {
    let target = official_dir(root).join("target");
    match linker {
        Linker::Default => target,
        Linker::RustLld => target.join("rust-lld"),
    }
}

/// Where the reference binary `bin`, linked by `linker`, is once built.
pub fn official(root: &Path, bin: &str, linker: Linker) -> PathBuf {
    release_binary(&official_target(root, linker), bin)
}

/// Builds the references `bins` of `benches/official` with its cargo feature `feature` alone
/// (not the default, which is all of them: cargo unifies dependency features over a package, so
/// each reference gets the features it needs and no more), linked by `linker`.
pub fn build_official(
    root: &Path,
    feature: &str,
    bins: &[&str],
    linker: Linker,
) -> Result<(), String> {
    let manifest = official_dir(root).join("Cargo.toml");
    let target = official_target(root, linker);
    let mut args: Vec<&str> = vec!["--locked", "--no-default-features", "--features", feature];
    for bin in bins {
        args.extend(["--bin", bin]);
    }
    let mut command = cargo_command(root, &args);
    command.arg("--manifest-path").arg(manifest);
    if linker == Linker::RustLld {
        command.arg("--target-dir").arg(target);
        link_with_rust_lld(&mut command);
    }
    run_cargo(&mut command)
}

/// `cargo build --release --target x86_64-unknown-linux-musl <args>`, run in `dir`, not yet run.
pub fn cargo_command(dir: &Path, args: &[impl AsRef<std::ffi::OsStr>]) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(dir)
        .args(["build", "--release", "--target", MUSL])
        .args(args);
    command
}

/// Links with `rust-lld` unless the environment picks a linker already ([`Linker::RustLld`]).
pub fn link_with_rust_lld(command: &mut Command) {
    if std::env::var_os(LINKER_VAR).is_none() {
        command.env(LINKER_VAR, "rust-lld");
    }
}

/// Runs a [`cargo_command`]: `cargo build --release --target x86_64-unknown-linux-musl <args>`
/// in `dir`.
pub fn cargo(dir: &Path, args: &[impl AsRef<std::ffi::OsStr>]) -> Result<(), String> {
    run_cargo(&mut cargo_command(dir, args))
}

/// Runs a [`cargo_command`], saying how to install the target if it fails.
pub fn run_cargo(command: &mut Command) -> Result<(), String> {
    run(
        command,
        &format!("; is the target installed? `rustup target add {MUSL}`"),
    )
}

/// Runs a build command with its output let through; `hint` follows the error when it fails.
pub fn run(command: &mut Command, hint: &str) -> Result<(), String> {
    eprintln!("building: {command:?}");
    let status = command
        .status()
        .map_err(|e| format!("cannot run {:?}: {e}", command.get_program()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} failed ({status}){hint}"))
    }
}
