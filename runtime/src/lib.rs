//! A small, blocking custom runtime for AWS Lambda.
//!
//! Write a [`Handler`] (a closure over the raw event bytes will do, or a typed function through
//! [`json`]) and hand it to [`run`]. The runtime polls the Lambda Runtime API for the next event,
//! fills a [`Context`] from the answer's headers, calls the handler, and posts its response or
//! its [`Error`] back, for as long as the process lives. No async runtime is involved.
//!
//! ```no_run
//! use lambda_rt::{Context, Error};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Deserialize)]
//! struct Request { name: String }
//! #[derive(Serialize)]
//! struct Reply { greeting: String }
//!
//! fn greet(req: Request, _ctx: &Context) -> Result<Reply, Error> {
//!     Ok(Reply { greeting: format!("hello, {}", req.name) })
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     lambda_rt::run(lambda_rt::json(greet))
//! }
//! ```
//!
//! Every invocation is answered exactly once: a handler error, a panic, an event that does not
//! deserialize or a response the API refuses as too large each become an error report for that
//! request id, and the loop goes on.

mod client;
mod config;
mod context;
mod error;
mod handler;
mod protocol;
mod router;
mod runtime;

pub use context::Context;
pub use error::Error;
pub use handler::{Handler, Json, json};
pub use router::Router;
pub use runtime::{run, run_with_init};

/// Thin wrappers that let the fuzz targets in `fuzz/` reach crate-internal functions.
/// Not an API: only built with the `fuzzing` feature.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    use std::borrow::Cow;

    use crate::{Context, Error};

    /// `Context::update_from_headers`, with the error as its message.
    pub fn update_from_headers(
        ctx: &mut Context,
        headers: &ureq::http::HeaderMap,
    ) -> Result<(), String> {
        ctx.update_from_headers(headers).map_err(|e| e.to_string())
    }

    /// `config::base_url`, with the error as its message.
    pub fn base_url(value: &str) -> Result<String, String> {
        crate::config::base_url(value).map_err(|e| e.to_string())
    }

    /// `Error::write_json`.
    pub fn write_error_json(error: &Error, out: &mut Vec<u8>) {
        error.write_json(out)
    }

    /// `Error::header_safe_type`.
    pub fn header_safe_type(error: &Error) -> Cow<'_, str> {
        error.header_safe_type()
    }
}
