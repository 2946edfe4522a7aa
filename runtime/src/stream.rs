//! Streamed responses: a handler that writes its response to a [`ResponseStream`] (a
//! `std::io::Write`), sent to the caller as it is written.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::client::StreamedResponse;
use crate::{Context, Error, Handler};

/// The content type of a function URL / HTTP API response that starts with a JSON prelude.
pub(crate) const HTTP_INTEGRATION_CONTENT_TYPE: &str =
    "application/vnd.awslambda.http-integration-response";

/// Where a streaming handler writes its response.
///
/// On Lambda, each `write` is sent at once as one HTTP chunk: nothing gathers the response, so a
/// handler can send more than the 6 MB a buffered response may hold (up to Lambda's 200 MiB),
/// and the caller sees the first bytes while the rest is being made. Many tiny writes cost one
/// chunk each: wrap the stream in a `std::io::BufWriter` to send them in larger pieces (its
/// `flush` sends what it holds). Writing past 200 MiB fails, and the stream is ended with the
/// error `Function.ResponseSizeTooLarge`.
///
/// In a unit test, [`Handler::call`] on a [`streaming`] handler collects the stream into the
/// response buffer instead.
pub struct ResponseStream<'a> {
    sink: &'a mut dyn Sink,
}

/// What a `ResponseStream` writes to: the Runtime API, or a buffer.
pub(crate) trait Sink: Write {
    fn set_content_type(&mut self, content_type: &str) -> io::Result<()>;
}

impl Sink for Vec<u8> {
    fn set_content_type(&mut self, _content_type: &str) -> io::Result<()> {
        Ok(())
    }
}

impl Sink for StreamedResponse<'_> {
    fn set_content_type(&mut self, content_type: &str) -> io::Result<()> {
        StreamedResponse::set_content_type(self, content_type)
    }
}

impl<'a> ResponseStream<'a> {
    pub(crate) fn new(sink: &'a mut dyn Sink) -> Self {
        ResponseStream { sink }
    }

    /// Sets the response's `Content-Type` (default `application/octet-stream`). Only before the
    /// first byte is written: after it, this is an error. Printable ASCII only.
    pub fn set_content_type(&mut self, content_type: &str) -> io::Result<()> {
        if content_type.is_empty()
            || !content_type
                .bytes()
                .all(|b| b.is_ascii_graphic() || b == b' ')
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{content_type:?} is not a content type (printable ASCII)"),
            ));
        }
        self.sink.set_content_type(content_type)
    }

    /// Starts a function URL (or API Gateway) response: sets the content type Lambda expects
    /// and writes the status, headers and cookies; what is written next is the body. Call it
    /// before anything else is written.
    ///
    /// ```
    /// use std::io::Write;
    /// use lambda_blocking_rt::{Context, Error, Handler, HttpResponse, ResponseStream};
    ///
    /// let mut page = lambda_blocking_rt::streaming(
    ///     |_event: &[u8], _ctx: &Context, out: &mut ResponseStream| -> Result<(), Error> {
    ///         out.http_response(&HttpResponse::new(200).header("content-type", "text/plain"))?;
    ///         out.write_all(b"hello")?;
    ///         Ok(())
    ///     },
    /// );
    /// let mut body = Vec::new();
    /// page.call(b"{}", &Context::default(), &mut body).unwrap();
    /// assert!(body.starts_with(br#"{"statusCode":200,"headers":{"content-type":"text/plain"}"#));
    /// assert!(body.ends_with(b"\0\0\0\0\0\0\0\0hello"));
    /// ```
    pub fn http_response(&mut self, response: &HttpResponse) -> io::Result<()> {
        self.set_content_type(HTTP_INTEGRATION_CONTENT_TYPE)?;
        let prelude = serde_json::to_vec(response).map_err(io::Error::other)?;
        self.write_all(&prelude)?;
        // Eight NUL bytes end the prelude; the body follows. Sent as a chunk of their own:
        // cargo lambda's emulator reads the prelude as the first chunk and the separator as the
        // second, as lambda_runtime frames them (Lambda itself reads the bytes, not the chunks).
        self.write_all(&[0; 8])
    }
}

impl Write for ResponseStream<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.sink.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.sink.flush()
    }
}

/// The status, headers and cookies of a streamed function URL response
/// ([`ResponseStream::http_response`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpResponse {
    /// The HTTP status the caller of the function URL gets, e.g. 200.
    pub status_code: u16,
    /// Response headers by name, one value each (a header set twice keeps the last value); for
    /// `Set-Cookie` use `cookies`, which may hold several.
    pub headers: BTreeMap<String, String>,
    /// `Set-Cookie` values, in order. Always written, even empty: cargo lambda's emulator
    /// requires the field.
    pub cookies: Vec<String>,
}

impl HttpResponse {
    /// A response with this status and no headers or cookies.
    pub fn new(status_code: u16) -> Self {
        HttpResponse {
            status_code,
            ..HttpResponse::default()
        }
    }

    /// Adds (or replaces) a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }

    /// Adds a `Set-Cookie` value, e.g. `"session=abc; Secure; HttpOnly"`.
    pub fn cookie(mut self, cookie: impl Into<String>) -> Self {
        self.cookies.push(cookie.into());
        self
    }
}

/// Handles one invocation by writing its response to a [`ResponseStream`].
///
/// Closures `FnMut(&[u8], &Context, &mut ResponseStream) -> Result<(), impl Into<Error>>` are
/// streaming handlers; hand one to [`streaming`] to run it. An error returned (or a panic) after
/// the first byte ends the stream with Lambda's error trailers, so the caller learns the
/// response failed; before the first byte it is an ordinary error report.
pub trait StreamingHandler {
    /// Handles `event`, writing the response to `out`.
    fn stream(
        &mut self,
        event: &[u8],
        ctx: &Context,
        out: &mut ResponseStream<'_>,
    ) -> Result<(), Error>;
}

// Each `StreamingHandler` impl (here, `StreamingJson` below, `web::WebStreaming`) spells the
// trait's signature; `duplicates` pairs them, and there is nothing to share.
impl<F, E> StreamingHandler for F
where
    F: FnMut(&[u8], &Context, &mut ResponseStream<'_>) -> Result<(), E>,
    E: Into<Error>,
{
    fn stream(
        &mut self,
        event: &[u8],
        ctx: &Context,
        out: &mut ResponseStream<'_>,
    ) -> Result<(), Error> {
        self(event, ctx, out).map_err(Into::into)
    }
}

/// Makes a [`StreamingHandler`] a [`Handler`] the `run` family, [`Router`](crate::Router) and
/// concurrency serve like any other; its response is streamed.
///
/// ```no_run
/// use std::io::Write;
/// use lambda_blocking_rt::{Context, Error, ResponseStream};
///
/// fn count(_event: &[u8], _ctx: &Context, out: &mut ResponseStream) -> Result<(), Error> {
///     for i in 0..3 {
///         writeln!(out, "line {i}")?; // sent now, one chunk
///         std::thread::sleep(std::time::Duration::from_millis(100));
///     }
///     Ok(())
/// }
///
/// fn main() -> std::process::ExitCode {
///     lambda_blocking_rt::run(lambda_blocking_rt::streaming(count))
/// }
/// ```
pub fn streaming<S: StreamingHandler>(handler: S) -> Streaming<S> {
    Streaming(handler)
}

/// The handler [`streaming`] returns.
#[derive(Debug, Clone)]
pub struct Streaming<S>(S);

impl<S: StreamingHandler> Handler for Streaming<S> {
    /// Collects the stream into `response`: for unit tests, and wherever the response is
    /// wanted whole.
    fn call(&mut self, event: &[u8], ctx: &Context, response: &mut Vec<u8>) -> Result<(), Error> {
        self.0
            .stream(event, ctx, &mut ResponseStream::new(response))
    }

    fn as_streaming(&mut self) -> Option<&mut dyn StreamingHandler> {
        Some(&mut self.0)
    }
}

/// A typed streaming handler: the event is deserialized into `In` with serde (an event that does
/// not is answered with `Runtime.InvalidEvent`, before any byte), then `f` writes the response.
///
/// ```
/// use std::io::Write;
/// use lambda_blocking_rt::{Context, Error, Handler, ResponseStream};
///
/// #[derive(serde::Deserialize)]
/// struct Count { to: u32 }
///
/// let mut counter = lambda_blocking_rt::streaming_json(
///     |c: Count, _ctx: &Context, out: &mut ResponseStream| -> Result<(), Error> {
///         for i in 1..=c.to {
///             write!(out, "{i} ")?;
///         }
///         Ok(())
///     },
/// );
/// let mut out = Vec::new();
/// counter.call(br#"{"to":3}"#, &Context::default(), &mut out).unwrap();
/// assert_eq!(out, b"1 2 3 ");
/// ```
pub fn streaming_json<F, In, E>(f: F) -> Streaming<StreamingJson<F, In>>
where
    F: FnMut(In, &Context, &mut ResponseStream<'_>) -> Result<(), E>,
    In: DeserializeOwned,
    E: Into<Error>,
{
    Streaming(StreamingJson {
        function: f,
        input: PhantomData,
    })
}

/// The streaming handler inside what [`streaming_json`] returns.
pub struct StreamingJson<F, In> {
    function: F,
    input: PhantomData<fn(In)>,
}

// Not derived: that would ask `In: Clone` too.
impl<F: Clone, In> Clone for StreamingJson<F, In> {
    fn clone(&self) -> Self {
        StreamingJson {
            function: self.function.clone(),
            input: PhantomData,
        }
    }
}

// Each `StreamingHandler` impl (here, `StreamingJson` below, `web::WebStreaming`) spells the
// trait's signature; `duplicates` pairs them, and there is nothing to share.
impl<F, In, E> StreamingHandler for StreamingJson<F, In>
where
    F: FnMut(In, &Context, &mut ResponseStream<'_>) -> Result<(), E>,
    In: DeserializeOwned,
    E: Into<Error>,
{
    fn stream(
        &mut self,
        event: &[u8],
        ctx: &Context,
        out: &mut ResponseStream<'_>,
    ) -> Result<(), Error> {
        let input: In = crate::handler::event_as(event)?;
        (self.function)(input, ctx, out).map_err(Into::into)
    }
}
