//! The six functions measured: a 1 MiB response, streamed, buffered and streamed behind a
//! function URL prelude, on each runtime; built (static musl, the release profile) or found.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::check::{Expected, Prelude};

const MUSL: &str = "x86_64-unknown-linux-musl";
/// Links musl binaries with the `rust-lld` that ships with Rust (self-contained musl), as
/// `scripts/build.sh` does; a linker set in the environment wins.
const LINKER_VAR: &str = "CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_LINKER";

pub const OURS: &str = "lambda-blocking-rt";
pub const OFFICIAL: &str = "lambda_runtime";

/// How the function answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Response {
    Streamed,
    Buffered,
    /// Streamed, after a function URL prelude (status, headers) and its 8 NULs.
    UrlStreamed,
}

impl Response {
    pub const ALL: [Response; 3] = [
        Response::Streamed,
        Response::Buffered,
        Response::UrlStreamed,
    ];

    /// Its name in the CSV.
    pub fn id(self) -> &'static str {
        match self {
            Response::Streamed => "streamed",
            Response::Buffered => "buffered",
            Response::UrlStreamed => "url-streamed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Response::Streamed => "streamed",
            Response::Buffered => "buffered",
            Response::UrlStreamed => "function URL, streamed",
        }
    }
}

/// One function under test.
pub struct Function {
    /// [`OURS`] or [`OFFICIAL`].
    pub runtime: &'static str,
    pub response: Response,
    /// What it is written with, for the tables.
    pub api: &'static str,
    pub path: PathBuf,
}

impl Function {
    /// `lambda-blocking-rt streamed`: its name in progress lines and errors.
    pub fn name(&self) -> String {
        format!("{} {}", self.runtime, self.response.label())
    }

    /// The event it is invoked with: `{}`, or a function URL request for the URL functions
    /// (`lambda_http` parses it; `lambda-blocking-rt`'s function ignores it).
    pub fn event(&self) -> Vec<u8> {
        match self.response {
            Response::UrlStreamed => include_bytes!("../fixtures/function-url-event.json").to_vec(),
            _ => b"{}".to_vec(),
        }
    }

    /// What its response must be: the payload, after a prelude where one belongs.
    pub fn expected(&self) -> Expected {
        let prelude = match (self.response, self.runtime) {
            (Response::UrlStreamed, _) => Prelude::Required,
            // lambda_runtime sends a prelude before every streamed response.
            (Response::Streamed, OFFICIAL) => Prelude::Allowed,
            _ => Prelude::Forbidden,
        };
        Expected::Payload {
            payload: streaming::payload(),
            prelude,
        }
    }
}

/// The workspace root: two levels above this crate.
pub fn workspace_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// The six functions, in the order each round runs them, built first unless `no_build`.
pub fn prepare(no_build: bool) -> Result<Vec<Function>, String> {
    let root = workspace_root();
    let official_dir = root.join("benches/official-streaming");
    if !no_build {
        cargo(
            &root,
            &[
                "-p",
                "streaming",
                "--bin",
                "ours-stream",
                "--bin",
                "ours-buffered",
                "--bin",
                "ours-http-stream",
            ],
        )?;
        let manifest = official_dir.join("Cargo.toml");
        cargo(
            &root,
            &["--locked", "--manifest-path", &manifest.to_string_lossy()],
        )?;
    }
    let ours = |bin: &str| root.join("target").join(MUSL).join("release").join(bin);
    let official = |bin: &str| {
        official_dir
            .join("target")
            .join(MUSL)
            .join("release")
            .join(bin)
    };
    let functions = vec![
        Function {
            runtime: OURS,
            response: Response::Streamed,
            api: "`streaming`, 16 × `write_all`",
            path: ours("ours-stream"),
        },
        Function {
            runtime: OFFICIAL,
            response: Response::Streamed,
            api: "`run`, `StreamResponse` of `streaming::channel`, 16 × `send_data`",
            path: official("stream"),
        },
        Function {
            runtime: OURS,
            response: Response::Buffered,
            api: "`run`, a closure returning `&[u8]`",
            path: ours("ours-buffered"),
        },
        Function {
            runtime: OFFICIAL,
            response: Response::Buffered,
            api: "`run`, returning `&RawValue`",
            path: official("buffered"),
        },
        Function {
            runtime: OURS,
            response: Response::UrlStreamed,
            api: "`streaming`, `http_response`, 16 × `write_all`",
            path: ours("ours-http-stream"),
        },
        Function {
            runtime: OFFICIAL,
            response: Response::UrlStreamed,
            api: "`lambda_http::run_with_streaming_response`, body of `streaming::channel`, 16 × `send_data`",
            path: official("http-stream"),
        },
    ];
    for function in &functions {
        if !function.path.is_file() {
            return Err(format!(
                "no {} binary at {}",
                function.name(),
                function.path.display()
            ));
        }
    }
    Ok(functions)
}

/// `cargo build --release --target x86_64-unknown-linux-musl <args>`, run in `dir`.
fn cargo(dir: &Path, args: &[&str]) -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(dir)
        .args(["build", "--release", "--target", MUSL])
        .args(args);
    if std::env::var_os(LINKER_VAR).is_none() {
        command.env(LINKER_VAR, "rust-lld");
    }
    eprintln!("building: {command:?}");
    let status = command
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed ({status}); is the target installed? \
             `rustup target add {MUSL}`"
        ))
    }
}
