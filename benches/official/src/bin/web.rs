//! The `web` function's behaviour on the official `lambda_http` (the benchmark's reference):
//! status 200, `content-type: application/json`, `x-served-by: web`, the cookies `a=1` and
//! `b=2; Path=/`, and the request described as JSON; `/bytes` answers the bytes 0..=255,
//! `/status/NNN` status NNN with an empty body. Written as a `lambda_http` user writes it.

use std::collections::BTreeMap;

use base64::Engine;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Error, Request, RequestExt, Response, http::StatusCode, service_fn};
use serde::Serialize;

// Kept like handlers/src/web.rs on purpose: the same function, without our crates.
#[derive(Serialize)]
struct Description<'a> {
    method: &'a str,
    path: &'a str,
    query: BTreeMap<&'a str, Vec<&'a str>>,
    headers: BTreeMap<&'a str, Vec<String>>,
    cookies: Vec<&'a str>,
    body: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body_base64: Option<String>,
    path_params: BTreeMap<&'a str, &'a str>,
    source: &'static str,
}

async fn web(request: Request) -> Result<Response<Body>, Error> {
    let response = Response::builder()
        .header("x-served-by", "web")
        .header("set-cookie", "a=1")
        .header("set-cookie", "b=2; Path=/");
    let path = request.uri().path();
    if path == "/bytes" {
        let bytes: Vec<u8> = (0..=255).collect();
        return Ok(response
            .header("content-type", "application/octet-stream")
            .body(Body::Binary(bytes))?);
    }
    if let Some(status) = path
        .strip_prefix("/status/")
        .and_then(|code| StatusCode::from_bytes(code.as_bytes()).ok())
    {
        return Ok(response.status(status).body(Body::Empty)?);
    }
    let query_map = request.query_string_parameters_ref();
    let mut query: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, value) in query_map.into_iter().flat_map(|q| q.iter()) {
        query.entry(name).or_default().push(value);
    }
    let mut headers: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut cookies = Vec::new();
    for (name, value) in request.headers() {
        if name == "cookie" {
            let value = value.to_str().unwrap_or_default();
            cookies.extend(value.split(';').map(str::trim).filter(|c| !c.is_empty()));
        } else {
            let text = String::from_utf8_lossy(value.as_bytes()).into_owned();
            headers.entry(name.as_str()).or_default().push(text);
        }
    }
    let bytes: &[u8] = request.body().as_ref();
    let text = std::str::from_utf8(bytes).ok().filter(|t| !t.is_empty());
    let body_base64 = (text.is_none() && !bytes.is_empty())
        .then(|| base64::engine::general_purpose::STANDARD.encode(bytes));
    let path_params = request.path_parameters_ref();
    let description = Description {
        method: request.method().as_str(),
        path: request.uri().path(),
        query,
        headers,
        cookies,
        body: text,
        body_base64,
        path_params: path_params.into_iter().flat_map(|p| p.iter()).collect(),
        source: match request.request_context_ref() {
            Some(RequestContext::ApiGatewayV1(_)) => "rest",
            Some(RequestContext::ApiGatewayV2(_)) => "http",
            Some(RequestContext::Alb(_)) => "alb",
            Some(RequestContext::WebSocket(_)) => "websocket",
            Some(RequestContext::VpcLattice(_)) => "lattice",
            _ => "unknown",
        },
    };
    Ok(response
        .header("content-type", "application/json")
        .body(Body::Text(serde_json::to_string(&description)?))?)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::run(service_fn(web)).await
}
