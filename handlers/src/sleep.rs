//! `sleep`: `{"ms": 400}` sleeps 400 ms, then answers `{"slept_ms":400}`. Up to 15 minutes,
//! Lambda's longest timeout; anything else is an `InvalidInput` error. It shows concurrency
//! (several sleeps at once on Lambda Managed Instances) and timeouts.

use std::time::Duration;

use lambda_blocking_rt::{Context, Error, Handler};
use serde::{Deserialize, Serialize};

/// Lambda's longest function timeout.
pub const MAX_MS: u64 = 15 * 60 * 1000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    ms: u64,
}

#[derive(Serialize)]
struct Output {
    slept_ms: u64,
}

/// Blocks its worker for the time asked.
#[derive(Clone, Copy)]
pub struct Sleep;

impl Handler for Sleep {
    fn call(&mut self, event: &[u8], _ctx: &Context, response: &mut Vec<u8>) -> Result<(), Error> {
        let invalid = |why: String| {
            Error::new(
                "InvalidInput",
                format!(r#"expected {{"ms": <integer 0..={MAX_MS}>}}: {why}"#),
            )
        };
        let Input { ms } = serde_json::from_slice(event).map_err(|e| invalid(e.to_string()))?;
        if ms > MAX_MS {
            return Err(invalid(format!("{ms} ms is more than 15 minutes")));
        }
        std::thread::sleep(Duration::from_millis(ms));
        serde_json::to_writer(response, &Output { slept_ms: ms })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(event: &str) -> Result<String, Error> {
        let mut out = Vec::new();
        Sleep.call(event.as_bytes(), &Context::default(), &mut out)?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn sleeps_and_says_how_long() {
        assert_eq!(call(r#"{"ms":0}"#).unwrap(), r#"{"slept_ms":0}"#);
        assert_eq!(call(r#"{"ms":3}"#).unwrap(), r#"{"slept_ms":3}"#);
    }

    #[test]
    fn more_than_fifteen_minutes_or_another_shape_is_invalid_input() {
        for bad in [
            r#"{"ms":900001}"#,
            r#"{"ms":-1}"#,
            r#"{"ms":"5"}"#,
            r#"{"ms":5,"extra":1}"#,
            r#"{}"#,
            "5",
            "",
        ] {
            assert_eq!(call(bad).unwrap_err().error_type(), "InvalidInput", "{bad}");
        }
    }
}
