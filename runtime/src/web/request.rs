//! An HTTP event, whatever its source, read into an `http::Request<Body>`, and the shape its
//! response must take.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine;
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

use super::encoding::{parse_query, percent_decode, percent_encode};
use super::{Body, EventInfo, QueryMap, Source};
use crate::Error;
use crate::protocol::ERROR_INVALID_EVENT;

/// Every field of every HTTP event source this adapter reads; which are present tells the
/// source (see `source_of`).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawEvent {
    version: Option<String>,
    http_method: Option<String>,
    /// VPC Lattice.
    method: Option<String>,
    path: Option<String>,
    /// HTTP API, function URLs.
    raw_path: Option<String>,
    raw_query_string: Option<String>,
    headers: Option<BTreeMap<String, Values>>,
    multi_value_headers: Option<BTreeMap<String, Values>>,
    query_string_parameters: Option<BTreeMap<String, Values>>,
    multi_value_query_string_parameters: Option<BTreeMap<String, Values>>,
    path_parameters: Option<BTreeMap<String, String>>,
    stage_variables: Option<BTreeMap<String, String>>,
    /// HTTP API, function URLs: the `Cookie` header's parts, not in `headers`.
    cookies: Option<Vec<String>>,
    body: Option<String>,
    is_base64_encoded: Option<bool>,
    request_context: Option<serde_json::Value>,
}

/// A header or query value: one string, an array of them (multi-value maps, VPC Lattice), or
/// null (read as none).
#[derive(Default)]
struct Values(Vec<String>);

impl<'de> Deserialize<'de> for Values {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ValuesVisitor;
        impl<'de> Visitor<'de> for ValuesVisitor {
            type Value = Values;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, an array of strings or null")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Values, E> {
                Ok(Values(vec![value.to_owned()]))
            }
            fn visit_string<E: de::Error>(self, value: String) -> Result<Values, E> {
                Ok(Values(vec![value]))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Values, E> {
                Ok(Values(Vec::new()))
            }
            fn visit_none<E: de::Error>(self) -> Result<Values, E> {
                Ok(Values(Vec::new()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Values, A::Error> {
                let mut values = Vec::new();
                while let Some(value) = seq.next_element::<String>()? {
                    values.push(value);
                }
                Ok(Values(values))
            }
        }
        deserializer.deserialize_any(ValuesVisitor)
    }
}

/// How the response must be written: the source's shape, and for ALB whether the target group
/// has multi-value headers on (the response must use them exactly then).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ResponseShape {
    pub(crate) source: Source,
    pub(crate) multi_value_headers: bool,
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ERROR_INVALID_EVENT, message)
}

/// Reads `event` as an HTTP event of any source.
pub(crate) fn parse(event: &[u8]) -> Result<(http::Request<Body>, ResponseShape), Error> {
    let raw: RawEvent = serde_json::from_slice(event)
        .map_err(|e| invalid(format!("the event is not an HTTP event: {e}")))?;
    let source = source_of(&raw)?;
    let context = raw.request_context.as_ref();
    let field = |name: &str| context.and_then(|c| c.get(name));
    let context_str = |name: &str| field(name).and_then(|v| v.as_str());

    let method = match source {
        Source::HttpApi | Source::FunctionUrl => field("http")
            .and_then(|http| http.get("method"))
            .and_then(|m| m.as_str())
            .map(str::to_owned),
        Source::VpcLattice => raw.method.clone(),
        Source::WebSocket => Some(raw.http_method.clone().unwrap_or_else(|| {
            // A WebSocket message carries a body; connecting and disconnecting do not.
            if context_str("eventType") == Some("MESSAGE") {
                "POST"
            } else {
                "GET"
            }
            .to_owned()
        })),
        Source::RestApi | Source::Alb => raw.http_method.clone(),
    }
    .ok_or_else(|| invalid(format!("the {} event has no HTTP method", source.name())))?;

    let path = match source {
        Source::HttpApi | Source::FunctionUrl => {
            let raw_path = raw
                .raw_path
                .as_deref()
                .ok_or_else(|| invalid(format!("the {} event has no rawPath", source.name())))?;
            // HTTP API puts a named stage in front of the route's path (`/prod/items`); REST's
            // `path` has none. Removed, so a handler sees the same path from both.
            match context_str("stage") {
                Some(stage) if stage != "$default" => raw_path
                    .strip_prefix('/')
                    .and_then(|p| p.strip_prefix(stage))
                    .filter(|rest| rest.is_empty() || rest.starts_with('/'))
                    .map_or(raw_path, |rest| if rest.is_empty() { "/" } else { rest }),
                _ => raw_path,
            }
        }
        Source::WebSocket => raw.path.as_deref().unwrap_or("/"),
        _ => raw
            .path
            .as_deref()
            .ok_or_else(|| invalid(format!("the {} event has no path", source.name())))?,
    };

    let query = query_of(&raw, source);
    let mut uri = String::with_capacity(path.len() + 16);
    if !path.starts_with('/') {
        uri.push('/');
    }
    percent_encode(path, true, &mut uri);
    for (i, (name, value)) in query.iter().enumerate() {
        uri.push(if i == 0 { '?' } else { '&' });
        percent_encode(name, false, &mut uri);
        uri.push('=');
        percent_encode(value, false, &mut uri);
    }

    let multi_value_headers = raw.multi_value_headers.is_some();
    let mut builder = http::Request::builder()
        .method(
            http::Method::from_bytes(method.as_bytes())
                .map_err(|_| invalid(format!("{method:?} is not an HTTP method")))?,
        )
        .uri(
            http::Uri::try_from(uri.as_str())
                .map_err(|e| invalid(format!("the path {path:?} is not a URI path: {e}")))?,
        );
    let headers = builder
        .headers_mut()
        .ok_or_else(|| invalid("the event is not an HTTP request"))?;
    let header_map = match (&raw.multi_value_headers, &raw.headers) {
        (Some(multi), _) => Some(multi),
        (None, single) => single.as_ref(),
    };
    // Payload 2.0 moves the Cookie header into `cookies`; an emulator that sends both
    // (cargo lambda watch does) must not make each cookie arrive twice.
    let cookies = raw.cookies.as_ref().filter(|c| !c.is_empty());
    for (name, values) in header_map.into_iter().flatten() {
        if cookies.is_some() && name.eq_ignore_ascii_case("cookie") {
            continue;
        }
        let name = http::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| invalid(format!("{name:?} is not a header name")))?;
        for value in &values.0 {
            let value = http::HeaderValue::from_str(value).map_err(|_| {
                invalid(format!("the value of header {name} is not a header value"))
            })?;
            headers.append(name.clone(), value);
        }
    }
    if let Some(cookies) = cookies {
        let value = http::HeaderValue::from_str(&cookies.join("; "))
            .map_err(|_| invalid("the cookies are not a header value"))?;
        headers.append(http::header::COOKIE, value);
    }

    let body = match (raw.body, raw.is_base64_encoded.unwrap_or(false)) {
        (None, _) => Body::Empty,
        (Some(text), _) if text.is_empty() => Body::Empty,
        (Some(text), false) => Body::Text(text),
        (Some(encoded), true) => Body::Binary(
            base64::engine::general_purpose::STANDARD
                .decode(encoded.trim_end())
                .map_err(|e| {
                    invalid(format!(
                        "the body is marked isBase64Encoded but is not base64: {e}"
                    ))
                })?,
        ),
    };

    let info = EventInfo {
        source,
        query: QueryMap(query),
        path_params: raw.path_parameters.unwrap_or_default(),
        stage_variables: raw.stage_variables.unwrap_or_default(),
        request_context: raw.request_context.unwrap_or_default(),
    };
    let request = builder
        .extension(info)
        .body(body)
        .map_err(|e| invalid(format!("the event is not an HTTP request: {e}")))?;
    let shape = ResponseShape {
        source,
        multi_value_headers: source == Source::Alb && multi_value_headers,
    };
    Ok((request, shape))
}

/// The source, told by the event's shape (never by one field alone where two sources share it).
fn source_of(raw: &RawEvent) -> Result<Source, Error> {
    let context = raw.request_context.as_ref().ok_or_else(|| {
        invalid(
            "the event is no HTTP event: it has no requestContext (API Gateway, function URLs, ALB and VPC Lattice all send one)",
        )
    })?;
    let has = |name: &str| context.get(name).is_some_and(|v| !v.is_null());
    if has("elb") {
        return Ok(Source::Alb);
    }
    if has("serviceNetworkArn") || (raw.method.is_some() && has("targetGroupArn")) {
        return Ok(Source::VpcLattice);
    }
    if has("eventType") && has("connectionId") {
        return Ok(Source::WebSocket);
    }
    if raw.version.as_deref() == Some("2.0") && has("http") {
        let url = context
            .get("domainName")
            .and_then(|d| d.as_str())
            .is_some_and(|d| d.contains(".lambda-url."));
        return Ok(if url {
            Source::FunctionUrl
        } else {
            Source::HttpApi
        });
    }
    if raw.http_method.is_some() {
        return Ok(Source::RestApi);
    }
    Err(invalid(
        "the event is no HTTP event this adapter knows: expected requestContext.http with version 2.0 (HTTP API, function URL), httpMethod (REST API), requestContext.elb (ALB), requestContext.eventType and connectionId (WebSocket) or requestContext.serviceNetworkArn (VPC Lattice)",
    ))
}

/// The query as decoded (name, value) pairs in the order they came.
fn query_of(raw: &RawEvent, source: Source) -> Vec<(String, String)> {
    let pairs = |map: &BTreeMap<String, Values>, decode: bool| -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        for (name, values) in map {
            let name_text = if decode {
                percent_decode(name, true)
            } else {
                name.clone()
            };
            for value in &values.0 {
                let value = if decode {
                    percent_decode(value, true)
                } else {
                    value.clone()
                };
                pairs.push((name_text.clone(), value));
            }
        }
        pairs
    };
    let multi_or_single = || {
        raw.multi_value_query_string_parameters
            .as_ref()
            .or(raw.query_string_parameters.as_ref())
    };
    match source {
        // The raw string is the truth: the map joins repeated names with commas, so `a=1&a=2`
        // and `a=1%2C2` would look alike there.
        Source::HttpApi | Source::FunctionUrl => match &raw.raw_query_string {
            Some(raw_query) => parse_query(raw_query),
            None => raw
                .query_string_parameters
                .as_ref()
                .map(|map| pairs(map, false))
                .unwrap_or_default(),
        },
        // ALB passes the query as the client sent it, percent-encoded.
        Source::Alb => multi_or_single()
            .map(|map| pairs(map, true))
            .unwrap_or_default(),
        // API Gateway REST and WebSocket, and VPC Lattice, decode it.
        Source::RestApi | Source::WebSocket | Source::VpcLattice => multi_or_single()
            .map(|map| pairs(map, false))
            .unwrap_or_default(),
    }
}
