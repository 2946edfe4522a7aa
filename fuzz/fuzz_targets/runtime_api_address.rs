//! `config::base_url` on arbitrary values of `AWS_LAMBDA_RUNTIME_API`.
//!
//! Input: the value's bytes (invalid UTF-8 replaced by U+FFFD).
//!
//! Invariants, whenever a value is accepted:
//! - it never panics;
//! - the base URL starts with `http://`, ends with `/2018-06-01` and parses as a `Uri` with a
//!   host, as does every endpoint URL built on it;
//! - the HTTP layer connects where the value says: the authority is exactly the host, plus
//!   `:port` when a port is written, and a written port is a number the connection can use
//!   (ureq silently falls back to port 80 when it cannot read one);
//! - accepting is idempotent: the base URL without its `/2018-06-01`, given back, yields itself.

#![no_main]

use lambda_blocking_rt::fuzzing::base_url;
use libfuzzer_sys::fuzz_target;
use ureq::http::Uri;

const API_VERSION: &str = "/2018-06-01";

fuzz_target!(|data: &[u8]| {
    let value = String::from_utf8_lossy(data);
    let Ok(url) = base_url(&value) else {
        return;
    };
    assert!(url.starts_with("http://"), "{value:?} -> {url:?}");
    assert!(url.ends_with(API_VERSION), "{value:?} -> {url:?}");

    let uri: Uri = url
        .parse()
        .unwrap_or_else(|e| panic!("{value:?} -> {url:?} does not parse: {e}"));
    let host = uri.host().unwrap_or_default();
    assert!(!host.is_empty(), "{value:?} -> {url:?} has no host");
    assert_eq!(uri.scheme_str(), Some("http"));
    assert_eq!(uri.query(), None, "{value:?} -> {url:?}");

    let authority = uri.authority().expect("a URL with a host has an authority");
    let expected_authority = match uri.port_u16() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    // `:09001` is the same port as `:9001`; compare the number, not its spelling.
    let written = authority.as_str();
    let normalized = match written.rsplit_once(':') {
        Some((h, p)) if h == host => match p.parse::<u16>() {
            Ok(port) => format!("{h}:{port}"),
            Err(_) => written.to_owned(),
        },
        _ => written.to_owned(),
    };
    assert_eq!(
        normalized, expected_authority,
        "{value:?} -> {url:?}: the connection would not go where the value says"
    );

    for path in [
        "/runtime/invocation/next",
        "/runtime/init/error",
        "/runtime/invocation/8476a536-e9f4-11e8-9739-2dfe598c3fcd/response",
    ] {
        let endpoint = format!("{url}{path}");
        let parsed: Uri = endpoint
            .parse()
            .unwrap_or_else(|e| panic!("{value:?} -> {endpoint:?} does not parse: {e}"));
        assert_eq!(parsed.authority(), Some(authority));
        assert!(parsed.path().ends_with(path));
    }

    let again = base_url(url.strip_suffix(API_VERSION).unwrap());
    assert_eq!(
        again.as_deref(),
        Ok(url.as_str()),
        "{value:?} is not a fixed point"
    );
});
