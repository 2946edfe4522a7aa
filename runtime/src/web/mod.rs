//! Web functions: a handler that takes an [`http::Request`] and returns an [`http::Response`],
//! whichever Lambda HTTP source called it (the `http` feature).
//!
//! ```no_run
//! use lambda_blocking_rt::web::{self, Body, Request, RequestExt, Response};
//! use lambda_blocking_rt::{Context, Error};
//!
//! fn hello(request: Request, _ctx: &Context) -> Result<Response<String>, Error> {
//!     let name = request.query().first("name").unwrap_or("world");
//!     Ok(Response::builder()
//!         .header("content-type", "text/plain")
//!         .header("set-cookie", "seen=1; Path=/")
//!         .body(format!("hello, {name}"))?)
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     lambda_blocking_rt::run(web::handler(hello))
//! }
//! ```
//!
//! **Sources.** API Gateway REST APIs (and HTTP APIs with payload format 1.0), HTTP APIs
//! (payload 2.0), function URLs, Application Load Balancers (with multi-value headers on or
//! off), API Gateway WebSocket APIs and VPC Lattice (event version 2). The source is told by
//! the event's shape, and the response goes back in the shape that source reads:
//!
//! | source | response |
//! | --- | --- |
//! | REST API | `multiValueHeaders`, so several `Set-Cookie` survive |
//! | HTTP API, function URL | `headers` (several values joined with `, `) and `Set-Cookie` in `cookies` |
//! | ALB | `statusDescription` (`200 OK`); `multiValueHeaders` exactly when the request came with them, else `headers` (one `Set-Cookie` only: ALB carries one value per name) |
//! | VPC Lattice | `statusDescription`, `headers` (several values joined with `, `) |
//! | WebSocket | `statusCode` and `body` |
//!
//! A body goes back as text when its `Content-Type` is text (`text/*`, JSON, XML, forms, or any
//! type with a `charset`) or, without a content type, when it is UTF-8; anything else, or a
//! body with a `Content-Encoding`, goes back base64 with `isBase64Encoded: true`.
//!
//! **The request.** Method, URI (path and query, percent-encoded), every header value, and the
//! body ([`Body::Text`], or [`Body::Binary`] when the event had `isBase64Encoded`). Cookies
//! arrive as the `Cookie` header from every source (an HTTP API's `cookies` array is joined
//! with `; `). [`RequestExt`] gives the rest: the query as a decoded multi-map, path
//! parameters, stage variables, the raw `requestContext` and the [`Source`].
//!
//! - **Path.** The path the route sees, without the API Gateway stage: a REST API's `path`
//!   (API Gateway has already removed the stage; it is in `requestContext.stage`), an HTTP
//!   API's `rawPath` with a named stage's prefix (`/prod`) removed (`$default` has none). A
//!   custom domain's base path mapping is kept.
//! - **Query.** Fully percent-decoded, repeated names kept in order: an HTTP API's
//!   `rawQueryString` is parsed (its `queryStringParameters` joins repeated names with commas,
//!   so `?fields=na%2Cme` would be indistinguishable from `?fields=na&fields=me`); ALB's values,
//!   sent as the client wrote them, are decoded here; API Gateway REST, WebSocket and VPC
//!   Lattice values arrive decoded.
//!
//! An event that is no HTTP event, lacks what its source must send (a method, a path), or
//! says `isBase64Encoded` about a body that is not base64 is answered with
//! `Runtime.InvalidEvent` saying what is missing; the handler is not called.
//!
//! [`streaming`] runs the same kind of handler with its response streamed (function URLs in
//! `RESPONSE_STREAM` mode, API Gateway response streaming): the status, headers and cookies
//! first, then the body as it is written ([`StreamBody::from_writer`]).

mod encoding;
mod request;
mod response;

use std::collections::BTreeMap;
use std::io::Write;

pub use http;

use crate::{Context, Error, Handler, HttpResponse, ResponseStream, StreamingHandler};

/// The request a web handler receives.
pub type Request = http::Request<Body>;
/// The response a web handler returns: its body is anything that converts into a [`Body`]
/// (`String`, `&'static str`, `Vec<u8>`, `()`, ...).
pub type Response<B = Body> = http::Response<B>;

/// A request or response body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Body {
    /// No body.
    #[default]
    Empty,
    /// A text body (a request body that was not base64-encoded).
    Text(String),
    /// Bytes (a request body that was base64-encoded).
    Binary(Vec<u8>),
}

impl Body {
    /// The body's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Body::Empty => &[],
            Body::Text(text) => text.as_bytes(),
            Body::Binary(bytes) => bytes,
        }
    }

    /// The body as text, when it is UTF-8 (a binary body may be).
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Body::Text(text) => Some(text),
            other => std::str::from_utf8(other.as_bytes()).ok(),
        }
    }

    /// Whether the body has no bytes.
    pub fn is_empty(&self) -> bool {
        self.as_bytes().is_empty()
    }
}

impl AsRef<[u8]> for Body {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl From<()> for Body {
    fn from((): ()) -> Self {
        Body::Empty
    }
}

impl From<String> for Body {
    fn from(text: String) -> Self {
        Body::Text(text)
    }
}

impl From<&str> for Body {
    fn from(text: &str) -> Self {
        Body::Text(text.to_owned())
    }
}

impl From<Vec<u8>> for Body {
    fn from(bytes: Vec<u8>) -> Self {
        Body::Binary(bytes)
    }
}

impl From<&[u8]> for Body {
    fn from(bytes: &[u8]) -> Self {
        Body::Binary(bytes.to_vec())
    }
}

/// Which Lambda HTTP source sent the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// API Gateway REST API (payload format 1.0; also an HTTP API with payload 1.0).
    RestApi,
    /// API Gateway HTTP API, payload format 2.0.
    HttpApi,
    /// A Lambda function URL (the HTTP API 2.0 shape, on a `lambda-url` domain).
    FunctionUrl,
    /// An Application Load Balancer target group.
    Alb,
    /// API Gateway WebSocket API.
    WebSocket,
    /// VPC Lattice (event structure version 2).
    VpcLattice,
}

impl Source {
    fn name(self) -> &'static str {
        match self {
            Source::RestApi => "API Gateway REST",
            Source::HttpApi => "API Gateway HTTP API",
            Source::FunctionUrl => "function URL",
            Source::Alb => "ALB",
            Source::WebSocket => "API Gateway WebSocket",
            Source::VpcLattice => "VPC Lattice",
        }
    }
}

/// A query as decoded (name, value) pairs, in the order they came; a name may repeat.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryMap(pub Vec<(String, String)>);

impl QueryMap {
    /// The first value of `name`.
    pub fn first(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every (name, value) pair, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// Whether there is no parameter.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What the event said beyond the HTTP request: kept in the request's extensions, read with
/// [`RequestExt`]. Insert one yourself to unit-test a handler with a request you built.
#[derive(Debug, Clone, PartialEq)]
pub struct EventInfo {
    pub source: Source,
    pub query: QueryMap,
    pub path_params: BTreeMap<String, String>,
    pub stage_variables: BTreeMap<String, String>,
    /// The event's `requestContext`, as it came (`null` when there was none).
    pub request_context: serde_json::Value,
}

static EMPTY_QUERY: QueryMap = QueryMap(Vec::new());
static EMPTY_MAP: BTreeMap<String, String> = BTreeMap::new();
static NULL: serde_json::Value = serde_json::Value::Null;

/// The parts of a Lambda HTTP event that `http::Request` has no place for. On a request that
/// did not come through the adapter (one built in a test) they are empty, unless an
/// [`EventInfo`] was inserted into its extensions.
pub trait RequestExt {
    /// The query, percent-decoded, repeated names kept.
    fn query(&self) -> &QueryMap;
    /// The path parameters of the matched route (`/items/{id}` → `id`).
    fn path_params(&self) -> &BTreeMap<String, String>;
    /// The API Gateway stage variables.
    fn stage_variables(&self) -> &BTreeMap<String, String>;
    /// The event's raw `requestContext` (identity, authorizer, request id, ...).
    fn request_context(&self) -> &serde_json::Value;
    /// Which source sent it.
    fn source(&self) -> Option<Source>;
}

impl<B> RequestExt for http::Request<B> {
    fn query(&self) -> &QueryMap {
        self.extensions()
            .get::<EventInfo>()
            .map_or(&EMPTY_QUERY, |i| &i.query)
    }
    fn path_params(&self) -> &BTreeMap<String, String> {
        self.extensions()
            .get::<EventInfo>()
            .map_or(&EMPTY_MAP, |i| &i.path_params)
    }
    fn stage_variables(&self) -> &BTreeMap<String, String> {
        self.extensions()
            .get::<EventInfo>()
            .map_or(&EMPTY_MAP, |i| &i.stage_variables)
    }
    fn request_context(&self) -> &serde_json::Value {
        self.extensions()
            .get::<EventInfo>()
            .map_or(&NULL, |i| &i.request_context)
    }
    fn source(&self) -> Option<Source> {
        self.extensions().get::<EventInfo>().map(|i| i.source)
    }
}

/// Makes a web handler a [`Handler`]: `f(Request, &Context) -> Result<Response<B>, E>` where
/// `B: Into<Body>` and `E: Into<Error>` (so `?` works on any error, and on `http`'s).
pub fn handler<F, B, E>(f: F) -> Web<F>
where
    F: FnMut(Request, &Context) -> Result<Response<B>, E>,
    B: Into<Body>,
    E: Into<Error>,
{
    Web(f)
}

/// The handler [`handler`] returns.
#[derive(Debug, Clone)]
pub struct Web<F>(F);

// `Web` and `WebStreaming` take the same user function; their impls spell their traits'
// signatures with the same bounds (`duplicates` pairs them), and there is nothing to share.
impl<F, B, E> Handler for Web<F>
where
    F: FnMut(Request, &Context) -> Result<Response<B>, E>,
    B: Into<Body>,
    E: Into<Error>,
{
    fn call(&mut self, event: &[u8], ctx: &Context, out: &mut Vec<u8>) -> Result<(), Error> {
        let (request, shape) = request::parse(event)?;
        let response = (self.0)(request, ctx).map_err(Into::into)?.map(Into::into);
        response::write(shape, &response, out)
    }
}

/// The body of a streamed web response: a whole [`Body`] (anything that converts into one),
/// or a function that writes it piece by piece, each write sent at once.
pub struct StreamBody(StreamBodyKind);

/// What writes a streamed body.
type BodyWriter = Box<dyn FnOnce(&mut dyn Write) -> Result<(), Error>>;

enum StreamBodyKind {
    Whole(Body),
    Writer(BodyWriter),
}

impl StreamBody {
    /// A body written by `write` after the status and headers were sent: each `write` reaches
    /// the caller at once. An error it returns ends the stream with Lambda's error trailers.
    pub fn from_writer(write: impl FnOnce(&mut dyn Write) -> Result<(), Error> + 'static) -> Self {
        StreamBody(StreamBodyKind::Writer(Box::new(write)))
    }
}

impl<T: Into<Body>> From<T> for StreamBody {
    fn from(body: T) -> Self {
        StreamBody(StreamBodyKind::Whole(body.into()))
    }
}

/// Runs a web handler with its response streamed: function URLs in `RESPONSE_STREAM` mode,
/// API Gateway response streaming. The status, headers and cookies go first (Lambda's
/// `application/vnd.awslambda.http-integration-response` prelude), then the body, as raw
/// bytes (no base64), as it is written.
///
/// ```no_run
/// use std::io::Write;
/// use lambda_blocking_rt::web::{self, Request, Response, StreamBody};
/// use lambda_blocking_rt::{Context, Error};
///
/// fn count(_request: Request, _ctx: &Context) -> Result<Response<StreamBody>, Error> {
///     let body = StreamBody::from_writer(|out| {
///         for i in 0..3 {
///             writeln!(out, "line {i}")?; // sent now
///             std::thread::sleep(std::time::Duration::from_millis(100));
///         }
///         Ok(())
///     });
///     Ok(Response::builder().header("content-type", "text/plain").body(body)?)
/// }
///
/// fn main() -> std::process::ExitCode {
///     lambda_blocking_rt::run(web::streaming(count))
/// }
/// ```
pub fn streaming<F, B, E>(f: F) -> crate::Streaming<WebStreaming<F>>
where
    F: FnMut(Request, &Context) -> Result<Response<B>, E>,
    B: Into<StreamBody>,
    E: Into<Error>,
{
    crate::streaming(WebStreaming(f))
}

/// The streaming handler inside what [`streaming`] returns.
#[derive(Debug, Clone)]
pub struct WebStreaming<F>(F);

// See `Web`'s impl: the same bounds, another trait.
impl<F, B, E> StreamingHandler for WebStreaming<F>
where
    F: FnMut(Request, &Context) -> Result<Response<B>, E>,
    B: Into<StreamBody>,
    E: Into<Error>,
{
    fn stream(
        &mut self,
        event: &[u8],
        ctx: &Context,
        out: &mut ResponseStream<'_>,
    ) -> Result<(), Error> {
        let (request, _shape) = request::parse(event)?;
        let (head, body) = (self.0)(request, ctx).map_err(Into::into)?.into_parts();
        let mut prelude = HttpResponse::new(head.status.as_u16());
        for name in head.headers.keys() {
            let values = head.headers.get_all(name).iter();
            let values: Vec<_> = values
                .map(|v| String::from_utf8_lossy(v.as_bytes()))
                .collect();
            if name == http::header::SET_COOKIE {
                prelude
                    .cookies
                    .extend(values.into_iter().map(|v| v.into_owned()));
            } else {
                prelude.headers.insert(name.to_string(), values.join(", "));
            }
        }
        out.http_response(&prelude)?;
        match body.into().0 {
            StreamBodyKind::Whole(body) => out.write_all(body.as_bytes())?,
            StreamBodyKind::Writer(write) => write(out)?,
        }
        Ok(())
    }
}
