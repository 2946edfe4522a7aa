//! An `http::Response` written as the JSON the event's source expects back.

use std::borrow::Cow;
use std::collections::BTreeMap;

use base64::Engine;
use serde::Serialize;

use super::encoding::is_text_content_type;
use super::request::ResponseShape;
use super::{Body, Source};
use crate::Error;
use crate::protocol::ERROR_SERIALIZATION;

/// Every field any source takes; each source gets the ones it reads.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Out<'a> {
    status_code: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    headers: Option<BTreeMap<&'a str, Cow<'a, str>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    multi_value_headers: Option<BTreeMap<&'a str, Vec<Cow<'a, str>>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cookies: Option<Vec<Cow<'a, str>>>,
    body: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_base64_encoded: Option<bool>,
}

fn text(value: &http::HeaderValue) -> Cow<'_, str> {
    String::from_utf8_lossy(value.as_bytes())
}

/// The body as a JSON string: as it is when it is text (by content type, or with no content
/// type when it is UTF-8), else base64; and whether it was encoded.
pub(crate) fn body_text<'a>(headers: &http::HeaderMap, body: &'a Body) -> (Cow<'a, str>, bool) {
    let bytes = body.as_bytes();
    if bytes.is_empty() {
        return (Cow::Borrowed(""), false);
    }
    let encoded = headers.contains_key(http::header::CONTENT_ENCODING);
    let text_type = match headers.get(http::header::CONTENT_TYPE) {
        Some(content_type) => is_text_content_type(&text(content_type)),
        None => true,
    };
    match std::str::from_utf8(bytes) {
        Ok(text) if text_type && !encoded => (Cow::Borrowed(text), false),
        _ => (
            Cow::Owned(base64::engine::general_purpose::STANDARD.encode(bytes)),
            true,
        ),
    }
}

/// Writes `response` into `out` in the shape `shape` says.
pub(crate) fn write(
    shape: ResponseShape,
    response: &http::Response<Body>,
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    let headers = response.headers();
    let status = response.status();
    let (body, is_base64) = body_text(headers, response.body());
    let multi = || {
        let mut map: BTreeMap<&str, Vec<Cow<'_, str>>> = BTreeMap::new();
        for (name, value) in headers {
            map.entry(name.as_str()).or_default().push(text(value));
        }
        map
    };
    // One value per name: several are joined with ", " (RFC 9110's list form); `skip` names are
    // left out.
    let single = |skip: Option<&http::HeaderName>| {
        let mut map: BTreeMap<&str, Cow<'_, str>> = BTreeMap::new();
        for name in headers.keys().filter(|name| Some(*name) != skip) {
            let mut values = headers.get_all(name).iter().map(text);
            let first = values.next().unwrap_or_default();
            let joined = values.fold(first, |mut all, next| {
                all.to_mut().push_str(", ");
                all.to_mut().push_str(&next);
                all
            });
            map.insert(name.as_str(), joined);
        }
        map
    };
    let description = || {
        format!(
            "{} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or("Unknown")
        )
    };
    let set_cookie = &http::header::SET_COOKIE;
    let mut json = Out {
        status_code: status.as_u16(),
        status_description: None,
        headers: None,
        multi_value_headers: None,
        cookies: None,
        body,
        is_base64_encoded: Some(is_base64),
    };
    match shape.source {
        // Several Set-Cookie only survive in multiValueHeaders.
        Source::RestApi => json.multi_value_headers = Some(multi()),
        Source::HttpApi | Source::FunctionUrl => {
            json.headers = Some(single(Some(set_cookie)));
            json.cookies = Some(headers.get_all(set_cookie).iter().map(text).collect());
        }
        Source::Alb => {
            json.status_description = Some(description());
            if shape.multi_value_headers {
                json.multi_value_headers = Some(multi());
            } else {
                // One value per header: a second Set-Cookie cannot be carried (joined, the
                // browser would read one cookie); the first is sent.
                let mut map = single(Some(set_cookie));
                if let Some(cookie) = headers.get(set_cookie) {
                    map.insert(set_cookie.as_str(), text(cookie));
                }
                json.headers = Some(map);
            }
        }
        Source::VpcLattice => {
            json.status_description = Some(description());
            json.headers = Some(single(None));
        }
        Source::WebSocket => {
            if !is_base64 {
                json.is_base64_encoded = None;
            }
        }
    }
    serde_json::to_writer(&mut *out, &json).map_err(|e| {
        out.clear();
        Error::new(
            ERROR_SERIALIZATION,
            format!("the HTTP response could not be written as JSON: {e}"),
        )
    })
}
