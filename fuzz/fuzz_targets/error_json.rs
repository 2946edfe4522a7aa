//! The error report: `Error::write_json` (the body) and `Error::header_safe_type` (the
//! `Lambda-Runtime-Function-Error-Type` header) for arbitrary error types and messages.
//!
//! Input: `type 0xFF message`; both halves go through `String::from_utf8_lossy`, so they hold
//! any character, control characters included. Without a `0xFF` byte the message is empty.
//!
//! Invariants:
//! - it never panics;
//! - the body parses as a JSON object with exactly the keys `errorType`, `errorMessage` and
//!   `stackTrace`, the first two equal to the inputs and `stackTrace` = `[]`;
//! - the body is appended to what the buffer held (the runtime reuses it);
//! - the header type is non-empty printable ASCII (so always a valid header value), equal to the
//!   type whenever the type already is, and with one character per character of the type.

#![no_main]

use lambda_blocking_rt::Error;
use lambda_blocking_rt::fuzzing::{header_safe_type, write_error_json};
use libfuzzer_sys::fuzz_target;
use ureq::http::HeaderValue;

fuzz_target!(|data: &[u8]| {
    let (error_type, message) = match data.iter().position(|&b| b == 0xFF) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let error_type = String::from_utf8_lossy(error_type).into_owned();
    let message = String::from_utf8_lossy(message).into_owned();
    let error = Error::new(error_type.clone(), message.clone());

    let mut out = b"left over".to_vec();
    write_error_json(&error, &mut out);
    let body = out
        .strip_prefix(b"left over")
        .expect("the buffer's earlier content was overwritten");
    let json: serde_json::Value = serde_json::from_slice(body).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {:?}",
            String::from_utf8_lossy(body).into_owned()
        )
    });
    let object = json.as_object().expect("the body is a JSON object");
    assert_eq!(object.len(), 3, "{json}");
    assert_eq!(object["errorType"], error_type.as_str());
    assert_eq!(object["errorMessage"], message.as_str());
    assert_eq!(object["stackTrace"], serde_json::json!([]));

    let header = header_safe_type(&error);
    assert!(!header.is_empty());
    assert!(
        header.bytes().all(|b| b == b' ' || b.is_ascii_graphic()),
        "{header:?}"
    );
    assert!(HeaderValue::from_str(&header).is_ok(), "{header:?}");
    let printable = |c: char| c == ' ' || c.is_ascii_graphic();
    if !error_type.is_empty() && error_type.chars().all(printable) {
        assert_eq!(header, error_type.as_str());
    } else if !error_type.is_empty() {
        assert_eq!(header.chars().count(), error_type.chars().count());
    }
});
