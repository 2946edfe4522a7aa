//! `stream`: `{"chunks": N, "delay_ms": D, "fail_after": K}` streams the lines `chunk 0\n` …
//! `chunk N-1\n`, each sent on its own as it is written, sleeping D ms between them. With
//! `fail_after` = K it fails with errorType `StreamError` after K lines (the caller gets the K
//! lines, then the error, in the stream's trailers). N above 10 000 or D above 60 000 is
//! `InvalidInput`.

use std::io::Write;
use std::time::Duration;

use lambda_blocking_rt::{Context, Error, ResponseStream, StreamingHandler};
use serde::Deserialize;

pub const MAX_CHUNKS: u32 = 10_000;
pub const MAX_DELAY_MS: u64 = 60_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    chunks: u32,
    #[serde(default)]
    delay_ms: u64,
    #[serde(default)]
    fail_after: Option<u32>,
}

/// Streams numbered lines.
#[derive(Clone, Copy)]
pub struct Lines;

impl StreamingHandler for Lines {
    fn stream(
        &mut self,
        event: &[u8],
        _ctx: &Context,
        out: &mut ResponseStream<'_>,
    ) -> Result<(), Error> {
        let invalid = |why: String| {
            Error::new(
                "InvalidInput",
                format!(
                    r#"expected {{"chunks": 0..={MAX_CHUNKS}, "delay_ms": 0..={MAX_DELAY_MS}, "fail_after": K}}: {why}"#
                ),
            )
        };
        let input: Input = serde_json::from_slice(event).map_err(|e| invalid(e.to_string()))?;
        if input.chunks > MAX_CHUNKS {
            return Err(invalid(format!("{} chunks is too many", input.chunks)));
        }
        if input.delay_ms > MAX_DELAY_MS {
            return Err(invalid(format!(
                "a delay of {} ms is too long",
                input.delay_ms
            )));
        }
        out.set_content_type("text/plain; charset=utf-8")?;
        let mut line = String::new();
        for i in 0..input.chunks {
            if input.fail_after == Some(i) {
                return Err(Error::new(
                    "StreamError",
                    format!("failed on purpose after {i} lines"),
                ));
            }
            if i > 0 && input.delay_ms > 0 {
                std::thread::sleep(Duration::from_millis(input.delay_ms));
            }
            line.clear();
            use std::fmt::Write as _;
            let _ = writeln!(line, "chunk {i}");
            // One write, one chunk on the wire.
            out.write_all(line.as_bytes())?;
        }
        if input.fail_after == Some(input.chunks) {
            return Err(Error::new(
                "StreamError",
                format!("failed on purpose after {} lines", input.chunks),
            ));
        }
        Ok(())
    }
}

/// The handler, ready for `run`.
pub fn handler() -> lambda_blocking_rt::Streaming<Lines> {
    lambda_blocking_rt::streaming(Lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_blocking_rt::Handler;

    fn call(event: &str) -> (Vec<u8>, Result<(), Error>) {
        let mut out = Vec::new();
        let result = handler().call(event.as_bytes(), &Context::default(), &mut out);
        (out, result)
    }

    #[test]
    fn writes_numbered_lines() {
        let (out, result) = call(r#"{"chunks":3}"#);
        result.unwrap();
        assert_eq!(out, b"chunk 0\nchunk 1\nchunk 2\n");
    }

    #[test]
    fn fails_with_stream_error_after_k_lines() {
        let (out, result) = call(r#"{"chunks":5,"fail_after":2}"#);
        assert_eq!(out, b"chunk 0\nchunk 1\n");
        assert_eq!(result.unwrap_err().error_type(), "StreamError");
    }

    #[test]
    fn too_many_chunks_or_too_long_a_delay_is_invalid_input() {
        for bad in [
            r#"{"chunks":10001}"#,
            r#"{"chunks":1,"delay_ms":60001}"#,
            "{}",
            "x",
        ] {
            let (out, result) = call(bad);
            assert!(out.is_empty());
            assert_eq!(result.unwrap_err().error_type(), "InvalidInput", "{bad}");
        }
    }
}
