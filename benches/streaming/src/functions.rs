//! The six functions measured: a 1 MiB response, streamed, buffered and streamed behind a
//! function URL prelude, on each runtime; built (static musl, the release profile) or found.

use std::path::PathBuf;

use bench_support::build::{self, Linker, workspace_root};
pub use bench_support::{OFFICIAL, OURS};

use crate::check::{Expected, Prelude};

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

/// The six functions, in the order each round runs them, built first unless `no_build`.
pub fn prepare(no_build: bool) -> Result<Vec<Function>, String> {
    let root = workspace_root();
    // Every function is linked with the `rust-lld` that ships with Rust (self-contained musl), as
    // `scripts/build.sh` does; a linker set in the environment wins.
    if !no_build {
        let mut ours = build::cargo_command(
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
        );
        build::link_with_rust_lld(&mut ours);
        build::run_cargo(&mut ours)?;
        build::build_official(
            &root,
            "streaming",
            &["stream", "buffered", "http-stream"],
            Linker::RustLld,
        )?;
    }
    let ours = |bin: &str| build::release_binary(&root.join("target"), bin);
    let official = |bin: &str| build::official(&root, bin, Linker::RustLld);
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
