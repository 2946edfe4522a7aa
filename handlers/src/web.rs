//! `web`: every Lambda HTTP source (API Gateway REST, HTTP API, WebSocket, function URLs, ALB,
//! VPC Lattice) through the web adapter. Every request gets status 200, `content-type:
//! application/json`, `x-served-by: web`, the cookies `a=1` and `b=2; Path=/`, and a JSON
//! description of the request as the handler received it:
//! `{"method","path","query","headers","cookies","body","body_base64"?,"path_params","source"}`.
//! `/bytes` answers the 256 bytes 0..=255 as `application/octet-stream`; `/status/NNN` answers
//! status NNN with an empty body.

use std::collections::BTreeMap;

use lambda_blocking_rt::web::http::{HeaderValue, StatusCode, header};
use lambda_blocking_rt::web::{Body, Request, RequestExt, Response, Source};
use lambda_blocking_rt::{Context, Error};
use serde::Serialize;

/// The request, as the handler received it.
#[derive(Serialize)]
struct Description<'a> {
    method: &'a str,
    path: &'a str,
    query: BTreeMap<&'a str, Vec<&'a str>>,
    /// Lower-case names; `cookie` is in `cookies` instead.
    headers: BTreeMap<&'a str, Vec<String>>,
    cookies: Vec<&'a str>,
    /// The body as text; `null` when there is none or it is not UTF-8.
    body: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body_base64: Option<String>,
    path_params: &'a BTreeMap<String, String>,
    source: &'static str,
}

/// Answers `request` as described above.
pub fn web(request: Request, _ctx: &Context) -> Result<Response<Body>, Error> {
    let mut response = Response::builder()
        .header("x-served-by", "web")
        .header(header::SET_COOKIE, "a=1")
        .header(header::SET_COOKIE, "b=2; Path=/");
    let path = request.uri().path();
    if path == "/bytes" {
        let bytes: Vec<u8> = (0..=255).collect();
        return Ok(response
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .body(Body::Binary(bytes))?);
    }
    if let Some(status) = path
        .strip_prefix("/status/")
        .and_then(|code| StatusCode::from_bytes(code.as_bytes()).ok())
    {
        return Ok(response.status(status).body(Body::Empty)?);
    }
    let description = describe(&request);
    response = response.header(header::CONTENT_TYPE, "application/json");
    Ok(response.body(Body::Text(serde_json::to_string(&description)?))?)
}

fn describe(request: &Request) -> Description<'_> {
    let mut query: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, value) in request.query().iter() {
        query.entry(name).or_default().push(value);
    }
    let mut headers: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut cookies = Vec::new();
    for (name, value) in request.headers() {
        let text = |v: &'_ HeaderValue| String::from_utf8_lossy(v.as_bytes()).into_owned();
        if name == header::COOKIE {
            let value = value.to_str().unwrap_or_default();
            cookies.extend(value.split(';').map(str::trim).filter(|c| !c.is_empty()));
        } else {
            headers.entry(name.as_str()).or_default().push(text(value));
        }
    }
    let body = request.body();
    let text = body.as_str().filter(|t| !t.is_empty());
    let body_base64 = match (text, body.is_empty()) {
        (None, false) => Some(base64_of(body.as_bytes())),
        _ => None,
    };
    Description {
        method: request.method().as_str(),
        path: request.uri().path(),
        query,
        headers,
        cookies,
        body: text,
        body_base64,
        path_params: request.path_params(),
        source: match request.source() {
            Some(Source::RestApi) => "rest",
            Some(Source::HttpApi | Source::FunctionUrl) => "http",
            Some(Source::Alb) => "alb",
            Some(Source::WebSocket) => "websocket",
            Some(Source::VpcLattice) => "lattice",
            None => "unknown",
        },
    }
}

/// Standard base64 with padding: a dozen lines here instead of a dependency of the handlers.
fn base64_of(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The handler, through the web adapter.
pub fn handler() -> impl lambda_blocking_rt::Handler + Clone + Send {
    lambda_blocking_rt::web::handler(web)
}

/// The same handler with its response streamed (a function URL in `RESPONSE_STREAM` mode).
pub fn streaming_handler() -> impl lambda_blocking_rt::Handler + Clone + Send {
    lambda_blocking_rt::web::streaming(web)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_alphabet_and_padding() {
        assert_eq!(base64_of(b""), "");
        assert_eq!(base64_of(b"f"), "Zg==");
        assert_eq!(base64_of(b"fo"), "Zm8=");
        assert_eq!(base64_of(b"foo"), "Zm9v");
        assert_eq!(base64_of(&[0xff, 0xfe, 0x00, 0x80]), "//4AgA==");
    }
}
