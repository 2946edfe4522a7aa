//! The HTTP conversation with the Runtime API: one function per endpoint, over one keep-alive
//! connection.

use std::io::{self, Read};
use std::net::ToSocketAddrs;
use std::time::Duration;

use ureq::http::{HeaderMap, Response, Uri};
use ureq::typestate::WithBody;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, NextTimeout, TcpConnector, Transport,
};
use ureq::{Agent, Body, RequestBuilder};

use crate::Error;
use crate::error::ApiError;
use crate::protocol::*;

/// Each buffer of the one connection of a single loop. 32 KiB instead of ureq's 128 KiB:
/// measured with the coldstart harness, pinned, peak RSS 1056 -> 768 KiB and init 739 -> 601 us
/// for echo, at +10 % on a 64 KiB round trip and +15 % on 1 MiB (still a quarter of
/// lambda_runtime's).
pub(crate) const BUFFER_BYTES: usize = 32 * 1024;
/// Each buffer of a worker's connection on Managed Instances, where N workers each have two:
/// the buffers were most of the 102 KiB of RSS a worker added (benches/results/concurrency).
pub(crate) const WORKER_BUFFER_BYTES: usize = 8 * 1024;

/// The largest event body read from `/next`; Lambda's own limit is 6 MB.
const MAX_EVENT_BYTES: u64 = 128 * 1024 * 1024;

/// How the Runtime API took a posted response or error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Posted {
    /// 2xx: the invocation is answered.
    Accepted,
    /// 413: the body is larger than the API accepts.
    TooLarge,
    /// 410: the invocation already timed out (or this attempt was superseded); its answer is
    /// refused, and the environment is fine.
    Gone,
    /// Another 4xx (400 bad request, 403 forbidden, 404 unknown request id): this post was
    /// refused, the environment is fine.
    Refused(u16),
}

/// Which invocation, and which attempt of it, an answer is for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Invocation<'a> {
    pub(crate) request_id: &'a str,
    pub(crate) invocation_id: Option<&'a str>,
}

impl<'a> Invocation<'a> {
    /// The invocation `ctx` describes.
    pub(crate) fn of(ctx: &'a crate::Context) -> Self {
        Invocation {
            request_id: &ctx.request_id,
            invocation_id: ctx.invocation_id.as_deref(),
        }
    }
}

/// A `/next` answer: the headers, and whether the whole event body arrived.
pub(crate) struct NextAnswer {
    pub(crate) headers: HeaderMap,
    /// Set when the body was cut off; the event in the buffer is then incomplete.
    pub(crate) body_error: Option<io::Error>,
}

mod streamed;
pub(crate) use streamed::{Finished, StreamTarget, StreamedResponse};

pub(crate) struct RuntimeApi {
    agent: Agent,
    base: String,
    /// Reused for every URL, so building one allocates nothing once warm.
    url: String,
    /// `{base}/runtime/invocation/next`, parsed once: a clone costs less than parsing the URL
    /// for every poll. `None` if it does not parse; the poll then reports why.
    next_uri: Option<Uri>,
    /// Streamed responses go out on a connection of their own (see `streamed`).
    pub(crate) stream_target: StreamTarget,
}

impl RuntimeApi {
    /// `base` is the output of [`crate::config::base_url`].
    /// `buffer_bytes`: the size of each of the connection's input and output buffers.
    pub(crate) fn new(base: String, buffer_bytes: usize) -> Self {
        let config = Agent::config_builder()
            // Statuses are protocol answers here, not errors.
            .http_status_as_error(false)
            // The Runtime API is local: never go through a proxy from the environment.
            .proxy(None)
            // One connection, kept however long the function sits frozen between invocations.
            // No read timeout: `/next` can legitimately block for hours.
            .max_idle_connections(1)
            // Smaller than ureq's 128 KiB each: see `BUFFER_BYTES` and `WORKER_BUFFER_BYTES`.
            .input_buffer_size(buffer_bytes)
            .output_buffer_size(buffer_bytes)
            .max_idle_connections_per_host(1)
            .max_idle_age(Duration::from_secs(365 * 24 * 3600))
            .user_agent(concat!("lambda-blocking-rt/", env!("CARGO_PKG_VERSION")))
            // No `Accept: */*`: the Runtime API ignores it, and each header ureq adds is parsed,
            // hashed into a map and formatted again on every request.
            .accept("")
            .build();
        // Plain TCP, wrapped so pooled connections are not probed (`TrustPooled`), and a
        // resolver on the calling thread are all the Runtime API needs. ureq's defaults add
        // proxy and TLS connectors and a resolver that can time out on a helper thread: code
        // this runtime never runs, and 59 KB of every binary. (These are ureq's `unversioned`
        // traits: a minor ureq release may change them; Cargo.lock pins it.)
        let connector = TcpConnector::default().chain(TrustPooled);
        let agent = Agent::with_parts(config, connector, InlineResolver::default());
        let next_uri = format!("{base}{PATH_NEXT}").parse().ok();
        RuntimeApi {
            agent,
            stream_target: StreamTarget::new(&base),
            base,
            url: String::new(),
            next_uri,
        }
    }

    /// `GET /runtime/invocation/next`: waits for the next event and reads its body into `event`.
    pub(crate) fn next_invocation(&mut self, event: &mut Vec<u8>) -> Result<NextAnswer, ApiError> {
        const ENDPOINT: &str = "GET /runtime/invocation/next";
        event.clear();
        let request = match &self.next_uri {
            Some(uri) => self.agent.get(uri.clone()),
            None => self
                .agent
                .get(endpoint_url(&mut self.url, &self.base, PATH_NEXT)),
        };
        let response = request.call().map_err(|source| ApiError::Transport {
            endpoint: ENDPOINT,
            source,
        })?;
        let status = response.status().as_u16();
        let (parts, body) = response.into_parts();
        if status != 200 {
            return Err(fatal(ENDPOINT, status, body));
        }
        let body_error = body
            .into_with_config()
            .limit(MAX_EVENT_BYTES)
            .reader()
            .read_to_end(event)
            .err();
        Ok(NextAnswer {
            headers: parts.headers,
            body_error,
        })
    }

    /// `POST /runtime/invocation/{request-id}/response`: the handler's response, as raw bytes,
    /// with the attempt's `Lambda-Runtime-Invocation-Id` when `/next` gave one.
    pub(crate) fn post_response(
        &mut self,
        invocation: &Invocation<'_>,
        body: &[u8],
    ) -> Result<Posted, ApiError> {
        const ENDPOINT: &str = "POST /runtime/invocation/{id}/response";
        let request = self.invocation_post(invocation, PATH_RESPONSE_SUFFIX);
        posted(ENDPOINT, request.send(body))
    }

    /// `POST /runtime/invocation/{request-id}/error`: the error JSON, its type also as a header,
    /// with the attempt's `Lambda-Runtime-Invocation-Id` when `/next` gave one. `scratch` holds
    /// the serialized body.
    pub(crate) fn post_error(
        &mut self,
        invocation: &Invocation<'_>,
        error: &Error,
        scratch: &mut Vec<u8>,
    ) -> Result<Posted, ApiError> {
        const ENDPOINT: &str = "POST /runtime/invocation/{id}/error";
        let request = self.invocation_post(invocation, PATH_ERROR_SUFFIX);
        posted(ENDPOINT, send_error(request, error, scratch))
    }

    /// A POST to `/runtime/invocation/{request-id}{suffix}`, with the attempt's
    /// `Lambda-Runtime-Invocation-Id` when `/next` gave one.
    fn invocation_post(
        &mut self,
        invocation: &Invocation<'_>,
        suffix: &str,
    ) -> RequestBuilder<WithBody> {
        let url = invocation_url(&mut self.url, &self.base, invocation.request_id, suffix);
        let request = self.agent.post(url);
        match invocation.invocation_id {
            Some(id) => request.header(HEADER_INVOCATION_ID, id),
            None => request,
        }
    }

    /// `POST /runtime/init/error`: the function could not start.
    pub(crate) fn report_init_error(&mut self, error: &Error) -> Result<Posted, ApiError> {
        const ENDPOINT: &str = "POST /runtime/init/error";
        let url = endpoint_url(&mut self.url, &self.base, PATH_INIT_ERROR);
        let request = self.agent.post(url);
        posted(ENDPOINT, send_error(request, error, &mut Vec::new()))
    }
}

/// Wraps each TCP connection so the pool reuses it without probing it first, and so a request's
/// head and body leave in one write.
///
/// Probing: by default the pool checks a connection is still open before and after each use
/// (set non-blocking, peek a byte, set blocking: six system calls per request, more than the
/// request itself). The Runtime API keeps its connection open; when it does close one, the
/// next request on it fails and is retried at once on a new connection (`with_retries` in the
/// loop), which costs less than probing every time.
///
/// One write: ureq transmits a request's head, then its body, in two writes (two system calls,
/// two TCP segments). The wrapper holds the head back and sends it with the first part of the
/// body, or alone when the request has none (when ureq turns to read the answer).
#[derive(Debug)]
struct TrustPooled;

impl<T: Transport> Connector<T> for TrustPooled {
    type Out = TrustedTransport<T>;

    fn connect(
        &self,
        _details: &ConnectionDetails,
        chained: Option<T>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        Ok(chained.map(TrustedTransport::new))
    }
}

#[derive(Debug)]
struct TrustedTransport<T> {
    inner: T,
    /// A request head held back until its body (or the turn to read) comes.
    head: Vec<u8>,
    /// The next output is the head of a new request.
    next_is_head: bool,
    /// Room for a body part that does not fit beside the head in the output buffer.
    spill: Vec<u8>,
}

impl<T: Transport> TrustedTransport<T> {
    fn new(inner: T) -> Self {
        TrustedTransport {
            inner,
            head: Vec::new(),
            next_is_head: true,
            spill: Vec::new(),
        }
    }

    /// Sends the held head alone. The output buffer is free: its last contents went out.
    fn send_head(&mut self, timeout: NextTimeout) -> Result<(), ureq::Error> {
        if self.head.is_empty() {
            return Ok(());
        }
        let len = self.head.len();
        self.inner.buffers().output()[..len].copy_from_slice(&self.head);
        self.head.clear();
        self.inner.transmit_output(len, timeout)
    }
}

impl<T: Transport> Transport for TrustedTransport<T> {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.inner.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        if self.next_is_head {
            self.next_is_head = false;
            self.head.clear();
            self.head
                .extend_from_slice(&self.inner.buffers().output()[..amount]);
            return Ok(());
        }
        if self.head.is_empty() {
            return self.inner.transmit_output(amount, timeout);
        }
        let held = self.head.len();
        let output = self.inner.buffers().output();
        if held + amount <= output.len() {
            // Head and body side by side in the output buffer: one write.
            output.copy_within(..amount, held);
            output[..held].copy_from_slice(&self.head);
            self.head.clear();
            return self.inner.transmit_output(held + amount, timeout);
        }
        // A body part that fills the buffer: the head goes first, alone.
        self.spill.clear();
        self.spill.extend_from_slice(&output[..amount]);
        self.send_head(timeout)?;
        self.inner.buffers().output()[..amount].copy_from_slice(&self.spill);
        self.inner.transmit_output(amount, timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        // The request is complete (a GET has no body): what is held goes now.
        self.send_head(timeout)?;
        self.next_is_head = true;
        self.inner.await_input(timeout)
    }

    fn is_open(&mut self) -> bool {
        true
    }
}

/// Resolves on the calling thread, as ureq's `DefaultResolver` does when no resolve timeout is
/// set (none is): `host:port` through the system resolver, at most 16 addresses.
///
/// The first answer is kept for the life of the agent: ureq resolves before it looks in its pool,
/// so on every request, and a resolution (formatting `host:port`, parsing it) was 5 % of a warm
/// echo invocation's instructions. The Runtime API's address does not change while the
/// environment lives; an agent talks to one authority, and another one is resolved afresh.
#[derive(Debug, Default)]
struct InlineResolver {
    first: std::sync::OnceLock<(String, ResolvedSocketAddrs)>,
}

impl Resolver for InlineResolver {
    fn resolve(
        &self,
        uri: &Uri,
        _config: &ureq::config::Config,
        _timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let authority = uri.authority().map_or("", |a| a.as_str());
        if let Some((resolved_for, addrs)) = self.first.get()
            && resolved_for == authority
        {
            return Ok(addrs.clone());
        }
        let addrs = resolve_now(uri, self.empty())?;
        let _ = self.first.set((authority.to_owned(), addrs.clone()));
        Ok(addrs)
    }
}

/// `uri`'s `host:port` through the system resolver, into `addrs` (at most 16).
fn resolve_now(
    uri: &Uri,
    mut addrs: ResolvedSocketAddrs,
) -> Result<ResolvedSocketAddrs, ureq::Error> {
    let host_and_port = match (uri.scheme(), uri.authority()) {
        (Some(scheme), Some(authority)) => DefaultResolver::host_and_port(scheme, authority),
        _ => None,
    }
    .ok_or_else(|| ureq::Error::BadUri(format!("{uri} has no scheme, host or port")))?;
    for addr in host_and_port.to_socket_addrs()? {
        // Full after 16: the rest are not needed.
        if addrs.try_push(addr).is_err() {
            break;
        }
    }
    if addrs.is_empty() {
        return Err(ureq::Error::HostNotFound);
    }
    Ok(addrs)
}

/// `{base}{path}`, in the reused buffer.
fn endpoint_url<'a>(url: &'a mut String, base: &str, path: &str) -> &'a str {
    url.clear();
    url.push_str(base);
    url.push_str(path);
    url
}

/// `{base}/runtime/invocation/{request-id}{suffix}`, with the id percent-encoded where it holds
/// anything but URL-safe characters (Lambda's ids are UUIDs; emulators' may not be).
fn invocation_url<'a>(url: &'a mut String, base: &str, request_id: &str, suffix: &str) -> &'a str {
    url.clear();
    url.push_str(base);
    url.push_str(PATH_INVOCATION);
    push_percent_encoded(url, request_id);
    url.push_str(suffix);
    url
}

/// Appends `request_id` to `url`, percent-encoding all but URL-safe characters.
pub(crate) fn push_percent_encoded(url: &mut String, request_id: &str) {
    for b in request_id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            url.push(b as char);
        } else {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            url.push('%');
            url.push(HEX[usize::from(b >> 4)] as char);
            url.push(HEX[usize::from(b & 15)] as char);
        }
    }
}

/// The largest X-Ray cause document sent: larger ones are left out, as the AWS runtimes do.
const MAX_XRAY_CAUSE_BYTES: usize = 1024 * 1024;

/// Sends `error` as the error JSON (serialized into `scratch`), its type also as a header, and
/// its X-Ray cause document as `Lambda-Runtime-Function-Xray-Error-Cause` when under 1 MiB.
fn send_error(
    request: RequestBuilder<WithBody>,
    error: &Error,
    scratch: &mut Vec<u8>,
) -> Result<Response<Body>, ureq::Error> {
    scratch.clear();
    error.write_xray_cause(working_directory(), scratch);
    let cause_len = scratch.len();
    error.write_json(scratch);
    let (cause, body) = scratch.split_at(cause_len);
    let mut request = request
        .header(HEADER_ERROR_TYPE, error.header_safe_type().as_ref())
        .content_type("application/json");
    // The document is ASCII JSON (non-ASCII characters escaped), so always a valid header value.
    if let (1..MAX_XRAY_CAUSE_BYTES, Ok(cause)) = (cause.len(), std::str::from_utf8(cause)) {
        request = request.header(HEADER_XRAY_ERROR_CAUSE, cause);
    }
    request.send(body)
}

/// The process's working directory, for X-Ray causes: read once.
fn working_directory() -> &'static str {
    static CWD: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    CWD.get_or_init(|| {
        std::env::current_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_default()
    })
}

fn posted(
    endpoint: &'static str,
    answer: Result<Response<Body>, ureq::Error>,
) -> Result<Posted, ApiError> {
    let response = answer.map_err(|source| ApiError::Transport { endpoint, source })?;
    let status = response.status().as_u16();
    let mut body = response.into_body();
    let outcome = match status {
        200..=299 => Posted::Accepted,
        413 => Posted::TooLarge,
        410 => Posted::Gone,
        // "Container error": the environment is broken, and the runtime must exit.
        500..=599 => return Err(fatal(endpoint, status, body)),
        _ => Posted::Refused(status),
    };
    // Read the (small) answer to the end so the connection goes back for reuse. Into a small
    // buffer: `io::copy` zeroes 8 KiB of stack for each call.
    let mut reader = body.as_reader();
    let mut sink = [0u8; 128];
    loop {
        match reader.read(&mut sink) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    Ok(outcome)
}

/// A status that ends the runtime, with the start of the API's explanation.
fn fatal(endpoint: &'static str, status: u16, body: Body) -> ApiError {
    let mut text = Vec::new();
    let _ = body
        .into_with_config()
        .limit(1024)
        .reader()
        .read_to_end(&mut text);
    ApiError::Fatal {
        endpoint,
        status,
        body: String::from_utf8_lossy(&text).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ureq::unversioned::transport::LazyBuffers;

    /// A transport that records what each transmit sent.
    #[derive(Debug)]
    struct Recorder {
        buffers: LazyBuffers,
        sent: Vec<Vec<u8>>,
    }

    impl Transport for Recorder {
        fn buffers(&mut self) -> &mut dyn Buffers {
            &mut self.buffers
        }
        fn transmit_output(&mut self, amount: usize, _: NextTimeout) -> Result<(), ureq::Error> {
            self.sent.push(self.buffers.output()[..amount].to_vec());
            Ok(())
        }
        fn await_input(&mut self, _: NextTimeout) -> Result<bool, ureq::Error> {
            Ok(true)
        }
        fn is_open(&mut self) -> bool {
            true
        }
    }

    fn wrapped(output_size: usize) -> TrustedTransport<Recorder> {
        let recorder = Recorder {
            buffers: LazyBuffers::new(1024, output_size),
            sent: Vec::new(),
        };
        TrustedTransport::new(recorder)
    }

    /// Writes `bytes` into the output buffer and transmits them, as ureq does.
    fn transmit(t: &mut TrustedTransport<Recorder>, bytes: &[u8]) {
        t.buffers().output()[..bytes.len()].copy_from_slice(bytes);
        t.transmit_output(bytes.len(), NextTimeout::default())
            .unwrap();
    }

    #[test]
    fn head_and_body_leave_in_one_write_and_a_get_in_one_too() {
        let mut t = wrapped(64);
        transmit(&mut t, b"POST /r HTTP/1.1\r\n\r\n");
        transmit(&mut t, b"{\"a\":1}");
        t.await_input(NextTimeout::default()).unwrap();
        transmit(&mut t, b"GET /next HTTP/1.1\r\n\r\n");
        t.await_input(NextTimeout::default()).unwrap();
        assert_eq!(
            t.inner.sent,
            [
                b"POST /r HTTP/1.1\r\n\r\n{\"a\":1}".to_vec(),
                b"GET /next HTTP/1.1\r\n\r\n".to_vec()
            ]
        );
    }

    #[test]
    fn a_body_part_that_fills_the_buffer_follows_the_head_in_order() {
        let mut t = wrapped(16);
        transmit(&mut t, b"HEAD-");
        transmit(&mut t, &[b'x'; 16]);
        transmit(&mut t, b"tail");
        t.await_input(NextTimeout::default()).unwrap();
        assert_eq!(
            t.inner.sent.concat(),
            [&b"HEAD-"[..], &[b'x'; 16], b"tail"].concat()
        );
        assert_eq!(t.inner.sent[0], b"HEAD-");
    }

    #[test]
    fn resolver_gives_the_uri_address_with_the_default_port_when_none_is_written() {
        let resolve = |uri: &str| {
            let uri: Uri = uri.parse().unwrap();
            let addrs = InlineResolver::default()
                .resolve(
                    &uri,
                    &ureq::config::Config::default(),
                    NextTimeout::default(),
                )
                .unwrap();
            addrs.iter().map(ToString::to_string).collect::<Vec<_>>()
        };
        assert_eq!(
            resolve("http://127.0.0.1:9001/2018-06-01"),
            ["127.0.0.1:9001"]
        );
        assert_eq!(resolve("http://[::1]:9001/x"), ["[::1]:9001"]);
        assert_eq!(resolve("http://127.0.0.1/x"), ["127.0.0.1:80"]);
    }

    #[test]
    fn request_ids_are_percent_encoded_in_the_path() {
        let mut buf = String::new();
        let url = invocation_url(
            &mut buf,
            "http://h/2018-06-01",
            "8476a536-e9f4-11e8",
            "/response",
        );
        assert_eq!(
            url,
            "http://h/2018-06-01/runtime/invocation/8476a536-e9f4-11e8/response"
        );
        let url = invocation_url(&mut buf, "http://h/2018-06-01", "a/b c?é", "/error");
        assert_eq!(
            url,
            "http://h/2018-06-01/runtime/invocation/a%2Fb%20c%3F%C3%A9/error"
        );
    }
}
