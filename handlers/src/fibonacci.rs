//! `fibonacci`: `{"n":35}` → `{"n":35,"result":9227465}`, for `n` from 0 to 93 (the largest that
//! fits a `u64`). Anything else is an `InvalidInput` error, never a panic.

use lambda_blocking_rt::{Context, Error, Handler};
use serde::{Deserialize, Serialize};

/// The largest `n` whose Fibonacci number fits in a `u64`.
pub const MAX_N: u64 = 93;

#[derive(Deserialize)]
struct Input {
    n: u64,
}

#[derive(Serialize)]
struct Output {
    n: u64,
    result: u64,
}

/// Computes F(n) iteratively.
#[derive(Clone, Copy)]
pub struct Fibonacci;

impl Handler for Fibonacci {
    fn call(&mut self, event: &[u8], _ctx: &Context, response: &mut Vec<u8>) -> Result<(), Error> {
        let Input { n } = serde_json::from_slice(event).map_err(|e| {
            Error::new(
                "InvalidInput",
                format!(r#"expected {{"n": <integer 0..={MAX_N}>}}: {e}"#),
            )
        })?;
        let result = fibonacci(n).ok_or_else(|| {
            Error::new(
                "InvalidInput",
                format!("n = {n} is too large: F(n) fits a u64 only up to n = {MAX_N}"),
            )
        })?;
        serde_json::to_writer(response, &Output { n, result })?;
        Ok(())
    }
}

/// F(n), or `None` when it does not fit a `u64`.
pub fn fibonacci(n: u64) -> Option<u64> {
    let (mut a, mut b) = (0u64, 1u64);
    for _ in 0..n {
        (a, b) = (b, a.saturating_add(b));
    }
    (n <= MAX_N).then_some(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert_eq!(fibonacci(0), Some(0));
        assert_eq!(fibonacci(1), Some(1));
        assert_eq!(fibonacci(35), Some(9_227_465));
        assert_eq!(fibonacci(93), Some(12_200_160_415_121_876_738));
        assert_eq!(fibonacci(94), None);
    }
}
