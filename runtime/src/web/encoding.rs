//! The small text codecs the events need: percent-decoding (queries), percent-encoding (the
//! request URI), and whether a content type is text.

/// Percent-decodes `text`; with `plus_is_space`, `+` is a space (query strings, HTML forms).
/// A `%` not followed by two hex digits stays as it is; bytes that do not form UTF-8 become
/// U+FFFD.
pub(crate) fn percent_decode(text: &str, plus_is_space: bool) -> String {
    if !text.contains(['%', '+']) {
        return text.to_owned();
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => match (hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
                (Some(high), Some(low)) => {
                    out.push(high << 4 | low);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus_is_space => out.push(b' '),
            byte => out.push(byte),
        }
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

fn hex(digit: Option<&u8>) -> Option<u8> {
    let digit = *digit?;
    (digit as char).to_digit(16).map(|d| d as u8)
}

/// Splits a raw query string (`a=1&b=x%2Cy&c`) into decoded pairs, in order: `c` is `("c", "")`.
pub(crate) fn parse_query(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(name, true), percent_decode(value, true))
        })
        .collect()
}

/// Appends `text` to `out`, percent-encoding every byte that may not appear as itself: in a
/// path, `/` and the characters RFC 3986 allows in a segment stay (and `%`, which the event may
/// already have used); in a query name or value, only the unreserved characters stay.
pub(crate) fn percent_encode(text: &str, in_path: bool, out: &mut String) {
    for &byte in text.as_bytes() {
        let keep = byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'.' | b'_' | b'~')
            || (in_path && b"/%!$&'()*+,;=:@".contains(&byte));
        if keep {
            out.push(byte as char);
        } else {
            out.push('%');
            out.push(char::from(b"0123456789ABCDEF"[usize::from(byte >> 4)]));
            out.push(char::from(b"0123456789ABCDEF"[usize::from(byte & 15)]));
        }
    }
}

/// Whether a response with this `Content-Type` is text, to be sent as a JSON string; anything
/// else (images, archives, `application/octet-stream`) is sent base64-encoded.
pub(crate) fn is_text_content_type(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence.starts_with("text/")
        || essence.ends_with("+json")
        || essence.ends_with("+xml")
        || matches!(
            essence.as_str(),
            "application/json"
                | "application/javascript"
                | "application/xml"
                | "application/x-www-form-urlencoded"
                | "application/graphql"
                | "application/x-ndjson"
        )
        || content_type.to_ascii_lowercase().contains("charset=")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_percent_plus_and_keeps_broken_escapes() {
        assert_eq!(percent_decode("na%2Cme", true), "na,me");
        assert_eq!(percent_decode("a+b%20c", true), "a b c");
        assert_eq!(percent_decode("a+b", false), "a+b");
        assert_eq!(percent_decode("100%", true), "100%");
        assert_eq!(percent_decode("%zz%4", true), "%zz%4");
        assert_eq!(percent_decode("caf%C3%A9", true), "café");
        assert_eq!(percent_decode("%FF", true), "\u{fffd}");
    }

    #[test]
    fn a_query_keeps_order_repeats_and_names_without_values() {
        assert_eq!(
            parse_query("a=1&a=2&fields=na%2Cme&flag&&e="),
            [
                ("a".into(), "1".into()),
                ("a".into(), "2".into()),
                ("fields".into(), "na,me".into()),
                ("flag".into(), String::new()),
                ("e".into(), String::new()),
            ]
        );
    }

    #[test]
    fn encodes_what_a_uri_cannot_hold() {
        let mut out = String::new();
        percent_encode("/a b/é", true, &mut out);
        assert_eq!(out, "/a%20b/%C3%A9");
        out.clear();
        percent_encode("na,me&x=y", false, &mut out);
        assert_eq!(out, "na%2Cme%26x%3Dy");
    }

    #[test]
    fn text_content_types() {
        for text in [
            "text/html",
            "application/json",
            "application/problem+json",
            "image/svg+xml",
            "Application/JSON; charset=utf-8",
            "application/x-custom; charset=utf-8",
        ] {
            assert!(is_text_content_type(text), "{text}");
        }
        for binary in [
            "image/png",
            "application/octet-stream",
            "application/zip",
            "",
        ] {
            assert!(!is_text_content_type(binary), "{binary}");
        }
    }
}
