//! Thin wrappers that let the fuzz targets in `fuzz/` reach crate-internal functions.
//! Not an API: only built under `cargo fuzz` (`--cfg fuzzing`).

use std::borrow::Cow;

use crate::{Context, Error};

/// `Context::update_from_headers`, with the error as its message.
pub fn update_from_headers(ctx: &mut Context, headers: &http::HeaderMap) -> Result<(), String> {
    ctx.update_from_headers(headers).map_err(|e| e.to_string())
}

/// `config::base_url`, with the error as its message.
pub fn base_url(value: &str) -> Result<String, String> {
    crate::config::base_url(value)
        .map(|base| base.as_str().to_owned())
        .map_err(|e| e.to_string())
}

/// `Error::write_json`.
pub fn write_error_json(error: &Error, out: &mut Vec<u8>) {
    error.write_json(out)
}

/// `Error::header_safe_type`.
pub fn header_safe_type(error: &Error) -> Cow<'_, str> {
    error.header_safe_type()
}
