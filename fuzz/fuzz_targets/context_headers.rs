//! `Context::update_from_headers` on the headers of arbitrary `/next` answers.
//!
//! Input: one or two header blocks in HTTP/1.1 form (`Name: value` lines, `\n` or `\r\n`),
//! separated by an empty line. Lines without a colon, names that are not valid header names and
//! values that are not valid header values are skipped, as the HTTP layer would never hand them
//! over. One space after the colon is dropped; any other whitespace is kept, so the trimming of
//! the request id is exercised too.
//!
//! Invariants:
//! - it never panics;
//! - on `Ok`, `request_id` is non-empty and is the first request-id header's value with HTTP
//!   whitespace (spaces and tabs) trimmed, so the answer goes to the invocation Lambda named;
//!   a usable request id is refused only when it is missing or blank;
//! - a `Context` reused after an earlier invocation (the first block) ends up exactly as a fresh
//!   `Context::default()` given the same headers (the second block), so nothing leaks from one
//!   invocation into the next. After an `Err` only the error and `request_id` are compared: the
//!   runtime uses nothing else of the context then, and refills every field on the next `Ok`.

#![no_main]

use lambda_blocking_rt::Context;
use lambda_blocking_rt::fuzzing::update_from_headers;
use libfuzzer_sys::fuzz_target;
use ureq::http::{HeaderMap, HeaderName, HeaderValue};

const REQUEST_ID: &str = "lambda-runtime-aws-request-id";

fuzz_target!(|data: &[u8]| {
    let (first, second) = split_blocks(data);
    let earlier = header_map(first);
    let headers = header_map(second);

    let mut fresh = Context::default();
    let fresh_result = update_from_headers(&mut fresh, &headers);

    let expected_id = headers
        .get(REQUEST_ID)
        .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
        .map(|v| v.trim_matches([' ', '\t']))
        .filter(|v| !v.is_empty());
    match (&fresh_result, expected_id) {
        (Ok(()), Some(id)) => {
            assert!(!fresh.request_id.is_empty());
            assert_eq!(fresh.request_id, id, "request id is not the header's value");
        }
        (Ok(()), None) => panic!("accepted without a usable request id: {fresh:?}"),
        (Err(e), Some(id)) => assert_eq!(
            fresh.request_id, id,
            "refused ({e}) but the request id for the error report is not the header's value"
        ),
        (Err(_), None) => {}
    }

    let mut reused = Context::default();
    let _ = update_from_headers(&mut reused, &earlier);
    let reused_result = update_from_headers(&mut reused, &headers);
    assert_eq!(
        reused_result, fresh_result,
        "result depends on the earlier invocation"
    );
    if reused_result.is_ok() {
        assert_eq!(reused, fresh, "state leaked from the earlier invocation");
    } else {
        assert_eq!(reused.request_id, fresh.request_id);
    }
});

/// Splits at the first empty line; a single block is used for both invocations.
fn split_blocks(data: &[u8]) -> (&[u8], &[u8]) {
    for (i, w) in data.windows(2).enumerate() {
        if w == b"\n\n" {
            return (&data[..i], &data[i + 2..]);
        }
        if data[i..].starts_with(b"\n\r\n") {
            return (&data[..i], &data[i + 3..]);
        }
    }
    (data, data)
}

fn header_map(block: &[u8]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for line in block.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let value = &line[colon + 1..];
        let value = value.strip_prefix(b" ").unwrap_or(value);
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(&line[..colon]),
            HeaderValue::from_bytes(value),
        ) {
            map.append(name, value);
        }
    }
    map
}
