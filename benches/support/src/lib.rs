//! What the benchmark harnesses share (`benches/coldstart`, `benches/streaming`,
//! `benches/extension`, and any new
//! one): never shipped, a workspace member so its tests run with the others.
//!
//! | module | what |
//! | --- | --- |
//! | [`runtime_api`] | the fake Runtime API on loopback: a [`runtime_api::Server`] serving the [`runtime_api::Events`] a harness gives it (and the Extensions and Telemetry APIs an extension uses), or its parts for a harness that reads requests its own way |
//! | [`lambda_env`] | the command that starts a runtime with the environment Lambda sets |
//! | [`build`] | building what is measured: ours as it ships (`scripts/build.sh`: functions, extensions, a workspace member's binaries), workspace binaries, the official-runtime references in `benches/official` |
//! | [`cli`] | option parsing and the exit status |
//! | [`process`] | pinning to a CPU (`--pin`), /proc/PID/status of a process started |
//! | [`stats`] | percentiles and medians |
//! | [`report`] | a report's files (`.md`, `.csv`, `.svg`), its heading (date, machine), CSV fields |
//! | [`chart`] | the reports' charts: panels of grouped bars, one colour per runtime |
//!
//! A new harness, in outline: start a [`runtime_api::Server`], give it an
//! [`runtime_api::Events`] per process (what `/next` hands out, where the answers go), start the
//! runtime with [`lambda_env::command`] on `server.addr()`, then write what was measured with
//! [`report::write_files`]. The test fake in `tests/` is a different thing on purpose: its job
//! is to misbehave; this one's is to be cheap and constant.

pub mod build;
pub mod chart;
pub mod cli;
pub mod lambda_env;
pub mod process;
pub mod report;
pub mod runtime_api;
pub mod stats;

use std::sync::{Mutex, MutexGuard, PoisonError};

/// The names the tables give the runtimes compared.
pub const OURS: &str = "lambda-blocking-rt";
/// See [`OURS`].
pub const OFFICIAL: &str = "lambda_runtime";

/// Locks `mutex`, whether or not a thread panicked holding it: the harness's state stays
/// readable.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
