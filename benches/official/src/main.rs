//! The reference for the cold-start benchmark: the same `echo` and `fibonacci` functions as the
//! project's `bootstrap`, written on the official `lambda_runtime` crate's public API and chosen
//! by `_HANDLER` (unset or unknown: `echo`).

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

#[tokio::main]
async fn main() -> Result<(), Error> {
    match std::env::var("_HANDLER").as_deref() {
        Ok("fibonacci") => lambda_runtime::run(service_fn(fibonacci)).await,
        _ => lambda_runtime::run(service_fn(echo)).await,
    }
}

/// Hands the event back as it came: `RawValue` keeps the JSON text, unparsed.
async fn echo(event: LambdaEvent<Box<RawValue>>) -> Result<Box<RawValue>, Error> {
    Ok(event.payload)
}

// Kept like handlers/src/fibonacci.rs on purpose: the same function, without our crates.
#[derive(Deserialize)]
struct Input {
    n: u64,
}

#[derive(Serialize)]
struct Output {
    n: u64,
    result: u64,
}

/// `{"n":35}` → `{"n":35,"result":9227465}`, computed iteratively; `n` above 93 overflows a u64.
async fn fibonacci(event: LambdaEvent<Input>) -> Result<Output, Error> {
    let n = event.payload.n;
    if n > 93 {
        return Err(format!("n = {n} is too large: F(n) fits a u64 only up to n = 93").into());
    }
    let (mut a, mut b) = (0u64, 1u64);
    for _ in 0..n {
        (a, b) = (b, a.wrapping_add(b));
    }
    Ok(Output { n, result: a })
}
