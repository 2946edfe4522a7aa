//! Running the real `cargo-lambda-zip` binary on fixture projects copied to temporary folders.

#![allow(dead_code)] // each test file uses its own part of this

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

pub const TOOL: &str = env!("CARGO_BIN_EXE_cargo-lambda-zip");

/// `tests/fixtures/<name>`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A copy of a fixture project in a new temporary folder, so builds write their target dir,
/// Cargo.lock and zips there and never in the source tree.
pub struct Project {
    pub dir: TempDir,
}

impl Project {
    pub fn copy_of(name: &str) -> Project {
        let dir = tempfile::Builder::new()
            .prefix(&format!("lambda-zip-{name}-"))
            .tempdir()
            .unwrap();
        copy_tree(&fixture(name), dir.path());
        Project { dir }
    }

    /// A project whose only file is a `Cargo.toml` with this text. For manifests cargo cannot
    /// parse: kept as a file in the tree, one would break every git install of this repository
    /// (cargo reads every manifest in a git checkout while it looks for the package).
    pub fn with_manifest(name: &str, manifest: &str) -> Project {
        let dir = tempfile::Builder::new()
            .prefix(&format!("lambda-zip-{name}-"))
            .tempdir()
            .unwrap();
        fs::write(dir.path().join("Cargo.toml"), manifest).unwrap();
        Project { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn manifest(&self) -> PathBuf {
        self.path().join("Cargo.toml")
    }

    /// The tool on this project (`--manifest-path` given), with the build's own target dir.
    pub fn tool<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut command = tool();
        command
            .arg("--manifest-path")
            .arg(self.manifest())
            .args(args)
            .env("CARGO_TARGET_DIR", self.path().join("target"));
        command
    }
}

/// The tool with an environment that does not depend on the caller's: no rustflags, no
/// timestamp, no target dir of theirs.
pub fn tool() -> Command {
    let mut command = Command::new(TOOL);
    for variable in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "SOURCE_DATE_EPOCH",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET_DIR",
        "CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_LINKER",
        "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER",
    ] {
        command.env_remove(variable);
    }
    command
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The run's result, with its output as text.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(command: &mut Command) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().unwrap();
    Run {
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

impl Run {
    /// The run failed with exit code `code` and said exactly one line on stderr, an `error:`;
    /// returns that line.
    pub fn one_error_line(&self, code: i32) -> &str {
        assert_eq!(self.code, Some(code), "stderr: {}", self.stderr);
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "expected one line on stderr, got: {}",
            self.stderr
        );
        assert!(lines[0].starts_with("error: "), "{}", lines[0]);
        lines[0]
    }

    /// The last line on stderr of a run that failed with exit code 1: the tool's own verdict
    /// after cargo's output.
    pub fn last_error_line(&self) -> &str {
        assert_eq!(self.code, Some(1), "stderr: {}", self.stderr);
        let last = self.stderr.lines().last().unwrap_or_default();
        assert!(last.starts_with("error: "), "{}", self.stderr);
        last
    }
}

/// The real toolchain's folder of binaries (`<sysroot>/bin`), for runs without rustup's
/// proxies on PATH.
pub fn toolchain_bin() -> PathBuf {
    let output = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .unwrap();
    assert!(output.status.success());
    Path::new(String::from_utf8(output.stdout).unwrap().trim()).join("bin")
}
