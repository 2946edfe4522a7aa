//! `hello`: an API Gateway HTTP API (payload format 2.0) or function URL handler.
//! `GET /?name=Ada` → `{"statusCode":200,"headers":{"content-type":"application/json"},
//! "body":"{\"message\":\"hello, Ada\"}"}`.

use std::collections::HashMap;

use lambda_blocking_rt::{Context, Error, Handler};
use serde::{Deserialize, Serialize};

/// The part of the HTTP API request this handler reads.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    #[serde(default)]
    pub query_string_parameters: Option<HashMap<String, String>>,
}

/// An HTTP API response: status, headers and a string body.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Response {
    pub status_code: u16,
    pub headers: Headers,
    pub body: String,
}

#[derive(Serialize)]
pub struct Headers {
    #[serde(rename = "content-type")]
    pub content_type: &'static str,
}

#[derive(Serialize)]
struct Message<'a> {
    message: &'a str,
}

/// Greets `name` from the query string ("world" without one).
pub fn hello(request: Request, _ctx: &Context) -> Result<Response, Error> {
    let name = request
        .query_string_parameters
        .as_ref()
        .and_then(|q| q.get("name"))
        .map_or("world", String::as_str);
    let greeting = format!("hello, {name}");
    Ok(Response {
        status_code: 200,
        headers: Headers {
            content_type: "application/json",
        },
        body: serde_json::to_string(&Message { message: &greeting })?,
    })
}

/// The handler, through the typed JSON adapter.
pub fn handler() -> impl Handler + Clone + Send {
    lambda_blocking_rt::json(hello)
}
