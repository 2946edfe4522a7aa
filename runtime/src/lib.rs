//! A small, blocking custom runtime for AWS Lambda.
//!
//! Write a [`Handler`] (a closure over the raw event bytes will do, or a typed function through
//! [`json`]) and hand it to [`run`]. The runtime polls the Lambda Runtime API for the next event,
//! fills a [`Context`] from the answer's headers, calls the handler, and posts its response or
//! its [`Error`] back, for as long as the process lives. No async runtime is involved.
//!
//! ```no_run
//! use lambda_blocking_rt::{Context, Error};
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
//!     lambda_blocking_rt::run(lambda_blocking_rt::json(greet))
//! }
//! ```
//!
//! Every invocation is answered exactly once: a handler error, a panic, an event that does not
//! deserialize or a response the API refuses as too large each become an error report for that
//! request id, and the loop goes on.
//!
//! - [`streaming`] runs a handler that writes its response to a [`ResponseStream`] (a
//!   `std::io::Write`), sent as it is written.
//! - On Lambda Managed Instances (`AWS_LAMBDA_MAX_CONCURRENCY` = N > 1), [`run`] serves N
//!   invocations at once on N worker threads, each with its own clone of the handler.
//! - [`web`] (the `http` feature) serves API Gateway, function URLs, ALB and VPC Lattice with
//!   handlers of `http::Request` → `http::Response`.
//! - `run` installs Lambda-style logging (the `logging` feature) unless a logger is set up.

mod client;
mod config;
mod context;
mod error;
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;
mod handler;
mod logging;
mod protocol;
mod retry;
mod router;
mod runtime;
mod shutdown;
mod stream;
#[cfg(feature = "http")]
pub mod web;

/// The Extensions and Telemetry API client the `lambda-blocking-ext` crate is built on; not
/// part of this crate's API (it may change in any release). Use `lambda-blocking-ext`.
#[doc(hidden)]
pub mod extension_api {
    pub use crate::client::extension::{ErrorPhase, ExtensionApi, ExtensionApiError, Registration};
}

pub use context::Context;
pub use error::Error;
pub use handler::{BoxedHandler, Handler, Json, json};
pub use router::Router;
pub use runtime::{run, run_with_init};
pub use shutdown::on_shutdown;
pub use stream::{
    HttpResponse, ResponseStream, Streaming, StreamingHandler, StreamingJson, streaming,
    streaming_json,
};

/// The README's examples, compiled and run as doctests (with the `http` feature, which one of
/// them uses; `cargo test --workspace` has it on, through the handlers).
#[cfg(all(doctest, feature = "http"))]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
