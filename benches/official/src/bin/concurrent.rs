//! The reference for the concurrency benchmark: the same `echo` and `sleep` functions as the
//! project's one-function binaries, served with the official runtime's `run_concurrent` (its
//! `concurrency-tokio` feature), which runs `AWS_LAMBDA_MAX_CONCURRENCY` worker tasks each
//! polling `/next`, or one loop when it is unset or 1. `_HANDLER` picks the function (unset or
//! unknown: `echo`).

use std::time::Duration;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

#[tokio::main]
async fn main() -> Result<(), Error> {
    match std::env::var("_HANDLER").as_deref() {
        Ok("sleep") => lambda_runtime::run_concurrent(service_fn(sleep)).await,
        _ => lambda_runtime::run_concurrent(service_fn(echo)).await,
    }
}

/// Hands the event back as it came: `RawValue` keeps the JSON text, unparsed.
async fn echo(event: LambdaEvent<Box<RawValue>>) -> Result<Box<RawValue>, Error> {
    Ok(event.payload)
}

/// Lambda's longest function timeout, as the project's `sleep` handler allows.
const MAX_MS: u64 = 15 * 60 * 1000;

// Kept like handlers/src/sleep.rs on purpose: the same function, without our crates.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    ms: u64,
}

#[derive(Serialize)]
struct Output {
    slept_ms: u64,
}

/// `{"ms": 50}` → `{"slept_ms":50}` after 50 ms, with the timer of tokio (the task yields its
/// worker thread meanwhile, as an async function should).
async fn sleep(event: LambdaEvent<Input>) -> Result<Output, Error> {
    let ms = event.payload.ms;
    if ms > MAX_MS {
        return Err(format!("{ms} ms is more than 15 minutes").into());
    }
    tokio::time::sleep(Duration::from_millis(ms)).await;
    Ok(Output { slept_ms: ms })
}
