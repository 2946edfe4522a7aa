//! Everything that stops a build, each as one line that says what happened and what to do.

use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "no Cargo.toml in {} or any parent directory: run cargo lambda-zip inside a Cargo project, or pass --manifest-path",
        dir.display()
    )]
    NoManifest { dir: PathBuf },

    #[error("--manifest-path {}: no such file", path.display())]
    ManifestMissing { path: PathBuf },

    #[error("cannot read the Cargo project at {}: {reason}", manifest.display())]
    Metadata { manifest: PathBuf, reason: String },

    #[error(
        "{what} has no binary target: a Lambda bootstrap is a binary (src/main.rs or a [[bin]])"
    )]
    NoBinaries { what: String },

    #[error("no binary target named '{name}': the binaries are {}", available.join(", "))]
    UnknownBin {
        name: String,
        available: Vec<String>,
    },

    #[error(
        "two packages have a binary named '{name}' ({}): its output folder lambda/<arch>/{name} would be written twice; choose one with --bin and --manifest-path",
        packages.join(", ")
    )]
    DuplicateBin { name: String, packages: Vec<String> },

    #[error(
        "{krate} needs {library}, which a static musl build cannot link: {pulled_in}; {advice} (or pass --no-native-check to build anyway)"
    )]
    SystemLibraryDependency {
        krate: String,
        library: &'static str,
        /// "your dependency reqwest pulls it in (app → reqwest → native-tls → openssl → openssl-sys)"
        pulled_in: String,
        advice: &'static str,
    },

    #[error(
        "the Rust target {triple} is not installed and rustup, which would add it, is not on PATH: install rustup (https://rustup.rs) or the {triple} standard library"
    )]
    NoRustup { triple: &'static str },

    #[error(
        "the Rust target {triple} is missing and `rustup target add {triple}{toolchain}` failed: {reason}"
    )]
    TargetNotInstalled {
        triple: &'static str,
        /// Empty, or ` --toolchain nightly` (`--tiny`).
        toolchain: &'static str,
        reason: String,
    },

    #[error(
        "--tiny compiles the standard library with nightly, which needs its sources, and rustup, which would add them, is not on PATH: install rustup (https://rustup.rs)"
    )]
    NoRustupForRustSrc,

    #[error(
        "--tiny compiles the standard library with nightly, and rustup could not install nightly with its rust-src component: {reason}"
    )]
    RustSrcNotInstalled { reason: String },

    #[error(
        "$LAMBDA_ZIP_ZIG or the installed zig ({}) does not run: `zig version` failed; point LAMBDA_ZIP_ZIG at a working zig, or unset it",
        executable.display()
    )]
    ZigUnusable { executable: PathBuf },

    #[error(
        "a dependency compiles C, and zig {version}, the C compiler for the musl targets, could not be installed from PyPI: {reason}; install zig (0.13 or later) on PATH, or python3 with pip (apt-get install python3-pip), or set CC_<triple> to a C compiler for the target",
        version = crate::c_compiler::ZIG_VERSION
    )]
    ZigNotInstalled { reason: String },

    #[error(
        "neither LAMBDA_ZIP_CACHE, XDG_CACHE_HOME nor HOME is set: set one, where zig (the C compiler for dependencies that compile C) can be installed"
    )]
    NoCacheDir,

    #[error("could not run {program}: {source}")]
    Spawn {
        program: String,
        #[source]
        source: io::Error,
    },

    #[error(
        "the build script of {krate} failed for {triple}{pulled_in}: {reason} (its whole output: {})",
        log.display()
    )]
    BuildScriptFailed {
        krate: String,
        triple: &'static str,
        /// Empty, or "; your dependency x pulls it in (app → x → krate; in app's Cargo.toml)".
        pulled_in: String,
        /// The line of its output that says why.
        reason: String,
        /// cargo's whole stderr.
        log: PathBuf,
    },

    #[error(
        "linking for {triple} failed: no static library for -l{library} (lib{library}.a); {advice}"
    )]
    NativeLibraryMissing {
        triple: &'static str,
        library: String,
        advice: &'static str,
    },

    #[error("cargo could not compile {krate} for {triple}: the errors are above")]
    CompileFailed { krate: String, triple: &'static str },

    #[error("cargo build for {triple} failed: the errors are above")]
    BuildFailed { triple: &'static str },

    #[error("cargo built for {triple} but reported no executable for the binary '{bin}'")]
    NoExecutable { bin: String, triple: &'static str },

    #[error("{} is not a static {arch} Lambda binary: {problem}", path.display())]
    NotStatic {
        path: PathBuf,
        arch: &'static str,
        problem: String,
    },

    #[error("{} is not a valid Lambda package: {problem}", path.display())]
    BadZip { path: PathBuf, problem: String },

    #[error("--include {}: {problem}", path.display())]
    BadInclude { path: PathBuf, problem: String },

    #[error("SOURCE_DATE_EPOCH='{value}' is not a whole number of seconds since 1970")]
    SourceDateEpoch { value: String },

    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl Error {
    /// For `map_err`: an I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}
