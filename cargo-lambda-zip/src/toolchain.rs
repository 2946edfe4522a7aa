//! The Rust toolchain: which targets its standard library is installed for, and adding one
//! with rustup.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::arch::Arch;
use crate::error::Error;

/// The cargo that runs this subcommand (cargo sets `CARGO`), else the one on PATH.
pub fn cargo() -> PathBuf {
    std::env::var_os("CARGO").map_or_else(|| "cargo".into(), PathBuf::from)
}

/// The rustc cargo uses: `RUSTC`, else the one on PATH.
fn rustc() -> PathBuf {
    std::env::var_os("RUSTC").map_or_else(|| "rustc".into(), PathBuf::from)
}

/// What `ensure_target` did.
#[derive(Debug, PartialEq)]
pub enum TargetState {
    Installed,
    Added,
}

/// Makes sure the standard library for `arch` is installed in the toolchain that builds in
/// `dir` (rust-toolchain.toml applies), adding it with `rustup target add` when it is missing.
/// Asking rustc for its sysroot works without rustup too, when the target came another way.
pub fn ensure_target(arch: Arch, dir: &Path) -> Result<TargetState, Error> {
    let triple = arch.triple();
    let rustc = rustc();
    let output = run(Command::new(&rustc)
        .args(["--print", "sysroot"])
        .current_dir(dir))?;
    if output.status.success() {
        let sysroot = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        if Path::new(&sysroot)
            .join("lib/rustlib")
            .join(triple)
            .join("lib")
            .is_dir()
        {
            return Ok(TargetState::Installed);
        }
    }
    // Quiet while it downloads, so a failure is one line: what failed and why.
    let output = Command::new("rustup")
        .args(["target", "add", triple])
        .current_dir(dir)
        .output();
    match output {
        Err(error) if error.kind() == ErrorKind::NotFound => Err(Error::NoRustup { triple }),
        Err(source) => Err(Error::Spawn {
            program: "rustup".to_owned(),
            source,
        }),
        Ok(output) if output.status.success() => Ok(TargetState::Added),
        Ok(output) => Err(Error::TargetNotInstalled {
            triple,
            reason: last_line(&output),
        }),
    }
}

fn run(command: &mut Command) -> Result<Output, Error> {
    command.output().map_err(|source| Error::Spawn {
        program: command.get_program().to_string_lossy().into_owned(),
        source,
    })
}

/// The last thing a failed command said: its last non-empty line of stderr, or its status.
fn last_line(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .map(str::trim)
        .rfind(|line| !line.is_empty())
        .map(|line| line.strip_prefix("error: ").unwrap_or(line).to_owned())
        .unwrap_or_else(|| format!("it exited with {}", output.status))
}
