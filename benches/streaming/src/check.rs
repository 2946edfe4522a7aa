//! What a response must be to count: the payload's bytes exactly, with or without a function
//! URL prelude in front, and no error reported.

use bench_support::runtime_api::find;

/// The content type of a body that starts with a function URL prelude.
pub const HTTP_INTEGRATION: &str = "application/vnd.awslambda.http-integration-response";
/// The name of the error-type trailer, looked for in trailers and, as text, in bodies.
pub const ERROR_TYPE_TRAILER: &str = "Lambda-Runtime-Function-Error-Type";
/// The name of the error-body trailer (base64 of the error).
pub const ERROR_BODY_TRAILER: &str = "Lambda-Runtime-Function-Error-Body";

/// A body, split into its prelude (if its content type announces one) and its payload.
pub struct Body<'a> {
    pub prelude: Option<&'a [u8]>,
    pub payload: &'a [u8],
    whole: &'a [u8],
}

impl<'a> Body<'a> {
    /// With the HTTP integration content type, the body is a JSON prelude, 8 NUL bytes, then the
    /// payload; otherwise it is all payload.
    pub fn split(whole: &'a [u8], content_type: Option<&str>) -> Body<'a> {
        let separated = content_type
            .filter(|t| t.eq_ignore_ascii_case(HTTP_INTEGRATION))
            .and_then(|_| find(whole, &[0; 8]));
        match separated {
            Some(i) => Body {
                prelude: Some(&whole[..i]),
                payload: &whole[i + 8..],
                whole,
            },
            None => Body {
                prelude: None,
                payload: whole,
                whole,
            },
        }
    }

    /// Where the payload starts in the body.
    pub fn payload_offset(&self) -> usize {
        self.whole.len() - self.payload.len()
    }

    /// Error-trailer text sent as body bytes, from where it starts (1000 bytes at most).
    pub fn error_in_body(&self) -> Option<String> {
        let at = find(self.whole, ERROR_TYPE_TRAILER.as_bytes())?;
        let text = &self.whole[at..self.whole.len().min(at + 1000)];
        Some(String::from_utf8_lossy(text).into_owned())
    }
}

/// Whether a function URL prelude may, must or must not come first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prelude {
    Forbidden,
    /// `lambda_runtime` sends one with every streamed response, function URL or not.
    Allowed,
    Required,
}

/// What an invocation's response must be.
#[derive(Clone)]
pub enum Expected {
    /// These bytes after the prelude, no error trailer, no error text.
    Payload { payload: Vec<u8>, prelude: Prelude },
    /// Anything: the failing functions, whose answer is observed, not judged.
    Anything,
}

impl Expected {
    /// What is wrong with a response, if anything.
    pub fn problem(
        &self,
        body: &Body,
        headers: &crate::server::PostHeaders,
        trailers: &[(String, String)],
    ) -> Option<String> {
        let Expected::Payload { payload, prelude } = self else {
            return None;
        };
        match (prelude, body.prelude) {
            (Prelude::Forbidden, Some(_)) => return Some("a prelude where none belongs".into()),
            (Prelude::Required, None) => {
                return Some(format!(
                    "no function URL prelude (Content-Type {:?})",
                    headers.content_type
                ));
            }
            (_, Some(text)) => {
                let status = serde_json::from_slice::<serde_json::Value>(text)
                    .ok()
                    .and_then(|v| v.get("statusCode").and_then(|s| s.as_u64()));
                if status != Some(200) {
                    return Some(format!(
                        "a prelude without statusCode 200: {}",
                        String::from_utf8_lossy(text)
                    ));
                }
            }
            _ => {}
        }
        if let Some((name, _)) = trailers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(ERROR_TYPE_TRAILER))
        {
            return Some(format!("an error trailer {name}"));
        }
        if body.payload != payload.as_slice() {
            let differs_at = body
                .payload
                .iter()
                .zip(payload)
                .position(|(a, b)| a != b)
                .unwrap_or(body.payload.len().min(payload.len()));
            return Some(format!(
                "{} payload bytes, {} expected, first difference at byte {differs_at}",
                body.payload.len(),
                payload.len()
            ));
        }
        None
    }
}

/// Standard base64 (RFC 4648, padding optional) to text; `None` if it is not base64.
pub fn base64_decode(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for c in text.trim_end_matches('=').bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = acc << 6 | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            bytes.push((acc >> bits) as u8);
        }
    }
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::PostHeaders;

    fn expected(prelude: Prelude) -> Expected {
        Expected::Payload {
            payload: b"\"abc\"".to_vec(),
            prelude,
        }
    }

    #[test]
    fn a_prelude_is_split_off_only_with_the_integration_content_type() {
        let whole = b"{\"statusCode\":200}\0\0\0\0\0\0\0\0\"abc\"";
        let body = Body::split(whole, Some(HTTP_INTEGRATION));
        assert_eq!(body.prelude, Some(&b"{\"statusCode\":200}"[..]));
        assert_eq!(body.payload, b"\"abc\"");
        assert_eq!(body.payload_offset(), 26);
        let plain = Body::split(whole, Some("application/octet-stream"));
        assert_eq!((plain.prelude, plain.payload_offset()), (None, 0));
    }

    #[test]
    fn the_payload_and_the_prelude_rules_are_checked() {
        let headers = PostHeaders::default();
        let with = b"{\"statusCode\":200}\0\0\0\0\0\0\0\0\"abc\"";
        let with = Body::split(with, Some(HTTP_INTEGRATION));
        let without = Body::split(b"\"abc\"", None);
        assert!(
            expected(Prelude::Allowed)
                .problem(&with, &headers, &[])
                .is_none()
        );
        assert!(
            expected(Prelude::Allowed)
                .problem(&without, &headers, &[])
                .is_none()
        );
        assert!(
            expected(Prelude::Required)
                .problem(&without, &headers, &[])
                .is_some()
        );
        assert!(
            expected(Prelude::Forbidden)
                .problem(&with, &headers, &[])
                .is_some()
        );
        let wrong = Body::split(b"\"abd\"", None);
        let problem = expected(Prelude::Forbidden).problem(&wrong, &headers, &[]);
        assert!(problem.unwrap().contains("first difference at byte 3"));
        let trailers = [(ERROR_TYPE_TRAILER.to_owned(), "X".to_owned())];
        assert!(
            expected(Prelude::Forbidden)
                .problem(&without, &headers, &trailers)
                .is_some()
        );
    }

    #[test]
    fn base64_decodes_rfc_4648_test_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64_decode(encoded).as_deref(), Some(plain));
        }
        assert_eq!(base64_decode("Zg").as_deref(), Some("f"));
        assert!(base64_decode("Z!").is_none());
    }

    #[test]
    fn error_text_in_a_body_is_found() {
        let body = Body::split(b"abcLambda-Runtime-Function-Error-Type: X\r\n", None);
        assert_eq!(
            body.error_in_body().as_deref(),
            Some("Lambda-Runtime-Function-Error-Type: X\r\n")
        );
        assert!(Body::split(b"abc", None).error_in_body().is_none());
    }
}
