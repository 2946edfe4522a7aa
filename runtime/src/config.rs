//! What the environment configures: where the Runtime API is (`AWS_LAMBDA_RUNTIME_API`, in its
//! two forms) and how many invocations to serve at once (`AWS_LAMBDA_MAX_CONCURRENCY`).

use std::num::NonZeroUsize;

use crate::client::BaseUrl;
use crate::error::{AddressError, ConcurrencyError};
use crate::protocol::API_VERSION;

/// The number of workers `AWS_LAMBDA_MAX_CONCURRENCY` asks for: 1 when it is unset or empty
/// (default Lambda), N on Lambda Managed Instances. Zero or anything but a number is refused.
pub(crate) fn max_concurrency(value: Option<&str>) -> Result<NonZeroUsize, ConcurrencyError> {
    let value = value.map(str::trim).unwrap_or("");
    if value.is_empty() {
        return Ok(NonZeroUsize::MIN);
    }
    value
        .parse::<NonZeroUsize>()
        .map_err(|_| ConcurrencyError(value.to_owned()))
}

/// Turns the value of `AWS_LAMBDA_RUNTIME_API` into the base URL every endpoint path is appended to,
/// e.g. `127.0.0.1:9001` → `http://127.0.0.1:9001/2018-06-01`,
/// `http://[::]:9000/.rt/fn/` → `http://[::]:9000/.rt/fn/2018-06-01`.
pub(crate) fn base_url(value: &str) -> Result<BaseUrl, AddressError> {
    let invalid = || AddressError::Invalid(value.to_owned());
    let trimmed = value.trim();
    let (authority, prefix) = if let Some(rest) = strip_scheme(trimmed, "http://") {
        match rest.find('/') {
            Some(slash) => (&rest[..slash], rest[slash..].trim_end_matches('/')),
            None => (rest, ""),
        }
    } else if strip_scheme(trimmed, "https://").is_some() {
        return Err(AddressError::Https(value.to_owned()));
    } else if trimmed.contains("://") {
        return Err(invalid());
    } else {
        (trimmed, "")
    };
    if authority.is_empty() || !authority.bytes().all(is_authority_byte) {
        return Err(invalid());
    }
    if !prefix.bytes().all(is_path_byte) {
        return Err(invalid());
    }
    let url = format!("http://{authority}{prefix}{API_VERSION}");
    // The HTTP layer parses every URL it is given; refuse here what it would refuse later, and
    // what it would quietly misread.
    match url.parse::<http::Uri>() {
        Ok(uri) if uri.host().is_some_and(|h| !h.is_empty()) && has_usable_port(&uri) => {
            let port = uri.port_u16().unwrap_or(80);
            Ok(BaseUrl::new(url, authority, port))
        }
        _ => Err(invalid()),
    }
}

/// The authority is the host alone, or the host and a port that is a number the connection can
/// use. The HTTP layer connects to port 80 when it cannot read the port (`host:`, `host:99999`,
/// `host:9oo1`, `[::1]x`), which would hang the runtime on the wrong server instead of failing.
fn has_usable_port(uri: &http::Uri) -> bool {
    let (Some(authority), Some(host)) = (uri.authority(), uri.host()) else {
        return false;
    };
    match authority.as_str().strip_prefix(host) {
        Some("") => true,
        Some(rest) => rest.strip_prefix(':').is_some_and(|port| {
            !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit())
                && port.parse::<u16>().is_ok()
        }),
        None => false,
    }
}

fn strip_scheme<'a>(value: &'a str, scheme: &str) -> Option<&'a str> {
    let head = value.get(..scheme.len())?;
    head.eq_ignore_ascii_case(scheme)
        .then(|| &value[scheme.len()..])
}

fn is_authority_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':' | b'[' | b']' | b'%')
}

fn is_path_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'-' | b'_' | b'~' | b'%')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_concurrency_is_one_unless_set_to_a_positive_number() {
        assert_eq!(max_concurrency(None).unwrap().get(), 1);
        assert_eq!(max_concurrency(Some("")).unwrap().get(), 1);
        assert_eq!(max_concurrency(Some(" 64 ")).unwrap().get(), 64);
        for bad in ["0", "-1", "four", "4.0", "1e3", "99999999999999999999999"] {
            assert_eq!(
                max_concurrency(Some(bad)),
                Err(ConcurrencyError(bad.into())),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn host_port_form_gets_scheme_and_version() {
        assert_eq!(
            base_url("127.0.0.1:9001").unwrap().as_str(),
            "http://127.0.0.1:9001/2018-06-01"
        );
        assert_eq!(
            base_url("localhost:9001").unwrap().as_str(),
            "http://localhost:9001/2018-06-01"
        );
        assert_eq!(
            base_url("[::1]:9001").unwrap().as_str(),
            "http://[::1]:9001/2018-06-01"
        );
    }

    #[test]
    fn url_form_keeps_prefix_and_drops_trailing_slash() {
        assert_eq!(
            base_url("http://[::]:9000/.rt/my-fn").unwrap().as_str(),
            "http://[::]:9000/.rt/my-fn/2018-06-01"
        );
        assert_eq!(
            base_url("HTTP://host:1/p/").unwrap().as_str(),
            "http://host:1/p/2018-06-01"
        );
        assert_eq!(
            base_url("http://host").unwrap().as_str(),
            "http://host/2018-06-01"
        );
    }

    #[test]
    fn ports_that_are_not_a_usable_number_are_refused() {
        // Found by the runtime_api_address fuzz target: the HTTP layer reads these as "no port"
        // and connects to port 80 instead of the one written.
        for bad in [
            "http://runlocalhost:90nternal",
            "127.0.0.1:",
            "127.0.0.1:99999",
            "127.0.0.1:9001:9002",
            "http://[::1]x/p",
            "http://[::1]:/p",
        ] {
            assert!(
                matches!(base_url(bad), Err(AddressError::Invalid(_))),
                "{bad:?} accepted"
            );
        }
        assert_eq!(
            base_url("127.0.0.1:65535").unwrap().as_str(),
            "http://127.0.0.1:65535/2018-06-01"
        );
        assert_eq!(
            base_url("http://[fe80::1%25eth0]:9001").unwrap().as_str(),
            "http://[fe80::1%25eth0]:9001/2018-06-01"
        );
    }

    #[test]
    fn unusable_values_are_refused_with_the_value_named() {
        assert_eq!(
            base_url("https://h:1"),
            Err(AddressError::Https("https://h:1".into()))
        );
        for bad in [
            "",
            "   ",
            "ftp://h:1",
            "http://",
            "http:///x",
            "h:1/x y",
            "a b:1",
            "http://h:1/a?b",
        ] {
            assert!(
                matches!(base_url(bad), Err(AddressError::Invalid(_))),
                "{bad:?} accepted"
            );
        }
    }
}
