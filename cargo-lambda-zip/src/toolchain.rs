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

/// The toolchain `--tiny` builds with: `-Z build-std` is nightly-only.
pub const TINY_TOOLCHAIN: &str = "nightly";

/// Which toolchain builds: the one in effect (rust-toolchain.toml, rustup default), or
/// nightly for `--tiny`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Toolchain {
    Current,
    Nightly,
}

impl Toolchain {
    /// `cargo` for this toolchain. Nightly goes through rustup's `cargo` on PATH with
    /// `RUSTUP_TOOLCHAIN`, since `CARGO` (set when cargo runs this subcommand) names the current
    /// toolchain's own cargo, which a `+nightly` cannot switch.
    pub fn cargo(self) -> Command {
        match self {
            Toolchain::Current => Command::new(cargo()),
            Toolchain::Nightly => nightly(Command::new("cargo")),
        }
    }

    fn rustc(self) -> Command {
        match self {
            Toolchain::Current => Command::new(rustc()),
            Toolchain::Nightly => nightly(Command::new("rustc")),
        }
    }

    /// `rustup ARGS`, for this toolchain.
    fn rustup(self, args: &[&str]) -> Command {
        let mut command = Command::new("rustup");
        // Its reason is the last line it prints: no backtrace after it.
        command
            .args(args)
            .env("RUST_BACKTRACE", "0")
            .env("RUST_LIB_BACKTRACE", "0");
        if self == Toolchain::Nightly {
            command.args(["--toolchain", TINY_TOOLCHAIN]);
        }
        command
    }

    /// The toolchain's sysroot, when rustc can tell.
    fn sysroot(self, dir: &Path) -> Result<Option<PathBuf>, Error> {
        let output = run(self.rustc().args(["--print", "sysroot"]).current_dir(dir))?;
        Ok(output
            .status
            .success()
            .then(|| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())))
    }
}

/// rustup's proxies choose the toolchain by `RUSTUP_TOOLCHAIN` before anything else; a `RUSTC`
/// inherited from the current toolchain would override the nightly one.
fn nightly(mut command: Command) -> Command {
    command
        .env("RUSTUP_TOOLCHAIN", TINY_TOOLCHAIN)
        .env_remove("RUSTC")
        .env_remove("RUSTDOC");
    command
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
/// With `-Z build-std` (`--tiny`) the target is still needed: its musl C library and start
/// files are linked from it.
pub fn ensure_target(arch: Arch, dir: &Path, toolchain: Toolchain) -> Result<TargetState, Error> {
    let triple = arch.triple();
    if let Some(sysroot) = toolchain.sysroot(dir)?
        && sysroot
            .join("lib/rustlib")
            .join(triple)
            .join("lib")
            .is_dir()
    {
        return Ok(TargetState::Installed);
    }
    // Quiet while it downloads, so a failure is one line: what failed and why.
    let output = toolchain
        .rustup(&["target", "add", triple])
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
            toolchain: match toolchain {
                Toolchain::Current => "",
                Toolchain::Nightly => " --toolchain nightly",
            },
            reason: last_line(&output),
        }),
    }
}

/// Makes sure nightly has the standard library's sources, which `-Z build-std` compiles
/// (`--tiny`): adds the `rust-src` component with rustup when they are missing, and installs
/// nightly itself (minimal profile) when it is.
pub fn ensure_rust_src(dir: &Path) -> Result<TargetState, Error> {
    let mut command = match Toolchain::Nightly.sysroot(dir)? {
        Some(sysroot) if sysroot.join("lib/rustlib/src/rust/library/std").is_dir() => {
            return Ok(TargetState::Installed);
        }
        // Nightly is there, without the sources.
        Some(_) => Toolchain::Nightly.rustup(&["component", "add", "rust-src"]),
        // No nightly at all: the smallest one that builds, with the sources.
        None => Toolchain::Current.rustup(&[
            "toolchain",
            "install",
            TINY_TOOLCHAIN,
            "--profile",
            "minimal",
            "--component",
            "rust-src",
        ]),
    };
    let output = command.current_dir(dir).output();
    match output {
        Err(error) if error.kind() == ErrorKind::NotFound => Err(Error::NoRustupForRustSrc),
        Err(source) => Err(Error::Spawn {
            program: "rustup".to_owned(),
            source,
        }),
        Ok(output) if output.status.success() => Ok(TargetState::Added),
        Ok(output) => Err(Error::RustSrcNotInstalled {
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
/// (rustup writes `error: `, pip `ERROR: `; the prefix is dropped.)
pub fn last_line(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .map(str::trim)
        .rfind(|line| !line.is_empty())
        .map(|line| {
            line.strip_prefix("error: ")
                .or_else(|| line.strip_prefix("ERROR: "))
                .unwrap_or(line)
                .to_owned()
        })
        .unwrap_or_else(|| format!("it exited with {}", output.status))
}
