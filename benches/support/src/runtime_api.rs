//! The fake Runtime API on loopback: just what a runtime's invoke loop uses, timed.
//!
//! Kept small and constant so it does not blur the runtimes it measures: the `/next` answer
//! (headers and event) is built once per start and only the request id's digits are patched in
//! place; every connection reuses its read buffer; `TCP_NODELAY` is on. Each connection gets a
//! thread, so a runtime may hold as many `/next` long polls at once as it has workers.
//!
//! It serves a function's extensions too, as Lambda does on the same address: the Extensions API
//! (`/2020-01-01/extension`: register, `/event/next`) and the Telemetry API's subscription
//! (`PUT /2022-07-01/telemetry`). Registering and subscribing always succeed; what an
//! `/event/next` gets is the [`Events`]' choice ([`Events::extension_next`]: by default the poll
//! is held, as between invocations).
//!
//! A harness starts a [`Server`] once and gives it, per process measured, an [`Events`]: what
//! `/next` hands out and where the answers go (the cold-start benchmark's `Session`, the
//! concurrency benchmark's `Batch`). A harness that must read requests its own way (the
//! streaming benchmark times every read of a body) takes the parts instead: [`Listener`],
//! [`endpoint`], [`next_answer`], the request-id functions, [`ACCEPTED`] and [`NOT_FOUND`]
//! (and for extensions [`REGISTERED`], [`SUBSCRIBED`], [`extension_event`]).
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Instant;
//! use bench_support::runtime_api::{Events, Server, next_answer};
//!
//! /// Hands out one event, then leaves the next poll open.
//! struct Once { answer: (Vec<u8>, usize), handed_out: std::sync::atomic::AtomicBool }
//!
//! impl Events for Once {
//!     fn next_answer(&self) -> (&[u8], usize) { (&self.answer.0, self.answer.1) }
//!     fn next(&self, _arrived: Instant) -> Option<u32> {
//!         (!self.handed_out.swap(true, std::sync::atomic::Ordering::SeqCst)).then_some(0)
//!     }
//!     fn answered(&self, _id: &[u8], body: &[u8], is_error: bool, _arrived: Instant) {
//!         println!("{} {}", is_error, String::from_utf8_lossy(body));
//!     }
//!     fn init_error(&self, body: &[u8]) { eprintln!("{}", String::from_utf8_lossy(body)); }
//! }
//!
//! let server = Server::start()?;
//! server.begin(Arc::new(Once { answer: next_answer(b"{}"), handed_out: Default::default() }));
//! // then start the runtime with `bench_support::lambda_env::command(path, server.addr(), ...)`
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::lock;

const API_PREFIX: &[u8] = b"/2018-06-01";
const PATH_NEXT: &[u8] = b"/runtime/invocation/next";
const PATH_INVOCATION: &[u8] = b"/runtime/invocation/";
const PATH_INIT_ERROR: &[u8] = b"/runtime/init/error";
const EXTENSION_REGISTER: &[u8] = b"/2020-01-01/extension/register";
const EXTENSION_NEXT: &[u8] = b"/2020-01-01/extension/event/next";
const TELEMETRY: &[u8] = b"/2022-07-01/telemetry";

/// What the Runtime API answers to a posted response or error.
pub const ACCEPTED: &[u8] = b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n\
    Content-Length: 16\r\n\r\n{\"status\":\"OK\"}\n";
/// What it answers to a path it does not serve.
pub const NOT_FOUND: &[u8] = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
/// What the Extensions API answers to `POST /extension/register`: the identifier every later
/// call sends, and the function's name, version and handler.
pub const REGISTERED: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
    Lambda-Extension-Identifier: 5f1c7a0e-bench\r\nContent-Length: 70\r\n\r\n\
    {\"functionName\":\"bench\",\"functionVersion\":\"$LATEST\",\"handler\":\"bench\"}";
/// What the Telemetry API answers to a subscription.
pub const SUBSCRIBED: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\nOK";

/// Request ids are UUID-shaped; the invocation's index goes into the last 12 digits.
const REQUEST_ID_TEMPLATE: &[u8; 36] = b"8476a536-e9f4-11e8-9739-000000000000";
const REQUEST_ID_DIGITS: std::ops::Range<usize> = 24..36;

/// Accepts connections on an ephemeral port of 127.0.0.1 and serves each on a thread of its own.
/// Dropping it leaves the listener thread running: a harness exits soon after anyway.
pub struct Listener {
    addr: SocketAddr,
    /// Connection threads still running.
    open: Arc<AtomicUsize>,
}

impl Listener {
    /// Starts listening; `serve` is called on a new thread for every connection.
    pub fn start(serve: impl Fn(TcpStream) + Send + Sync + 'static) -> io::Result<Listener> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let open = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&open);
        let serve = Arc::new(serve);
        std::thread::Builder::new()
            .name("runtime-api".into())
            .spawn(move || {
                for stream in listener.incoming().flatten() {
                    let serve = Arc::clone(&serve);
                    let open = Arc::clone(&counter);
                    counter.fetch_add(1, Ordering::SeqCst);
                    let spawned = std::thread::Builder::new()
                        .name("runtime-api-conn".into())
                        .spawn(move || {
                            serve(stream);
                            open.fetch_sub(1, Ordering::SeqCst);
                        });
                    if spawned.is_err() {
                        counter.fetch_sub(1, Ordering::SeqCst);
                    }
                }
            })?;
        Ok(Listener { addr, open })
    }

    /// `host:port`, as `AWS_LAMBDA_RUNTIME_API` carries it.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Waits (up to `timeout`) until every connection of the killed process has been closed and
    /// its thread has ended, so no teardown runs during the next start.
    pub fn settle(&self, timeout: Duration) {
        let until = Instant::now() + timeout;
        while self.open.load(Ordering::SeqCst) > 0 && Instant::now() < until {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
}

/// The fake Runtime API, serving whatever [`Events`] the harness gives it.
pub struct Server {
    listener: Listener,
    current: Arc<Mutex<Option<Arc<dyn Events>>>>,
}

impl Server {
    /// Listens on an ephemeral port of 127.0.0.1.
    pub fn start() -> io::Result<Server> {
        let current: Arc<Mutex<Option<Arc<dyn Events>>>> = Arc::new(Mutex::new(None));
        let sessions = Arc::clone(&current);
        let listener = Listener::start(move |stream| serve_connection(stream, &sessions))?;
        Ok(Server { listener, current })
    }

    /// `host:port`, as `AWS_LAMBDA_RUNTIME_API` carries it.
    pub fn addr(&self) -> SocketAddr {
        self.listener.addr()
    }

    /// See [`Listener::settle`].
    pub fn settle(&self, timeout: Duration) {
        self.listener.settle(timeout);
    }

    /// Makes `events` what every request is served from, until the next call.
    pub fn begin(&self, events: Arc<dyn Events>) {
        *lock(&self.current) = Some(events);
    }
}

/// What the connections serve, and where the answers go: one per process measured.
pub trait Events: Send + Sync {
    /// The whole `/next` answer, with a request id whose 36 bytes start at the index returned.
    fn next_answer(&self) -> (&[u8], usize);
    /// A `GET /next` arrived (its headers read at `arrived`): the index of the event to hand out
    /// now, or `None` to leave this poll unanswered. May wait until there is one.
    fn next(&self, arrived: Instant) -> Option<u32>;
    /// A response, or an error report (`is_error`), for request id `id` arrived (its body read at
    /// `arrived`).
    fn answered(&self, id: &[u8], body: &[u8], is_error: bool, arrived: Instant);
    /// `POST /runtime/init/error`.
    fn init_error(&self, body: &[u8]);
    /// A `GET /2020-01-01/extension/event/next` arrived (its headers read at `arrived`): the event
    /// to hand out (its JSON, e.g. [`shutdown_event`]), or `None` (the default) to leave this
    /// poll unanswered. May wait until there is one.
    fn extension_next(&self, arrived: Instant) -> Option<Vec<u8>> {
        let _ = arrived;
        None
    }
}

/// The whole `/next` answer for `payload` (a far deadline, an ARN and a trace id as Lambda sends
/// them), and where the request id's 36 bytes sit in it: build it once, then patch the id with
/// [`write_request_id`] per invocation.
pub fn next_answer(payload: &[u8]) -> (Vec<u8>, usize) {
    let deadline_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
        + 24 * 3600 * 1000;
    let mut answer = Vec::with_capacity(payload.len() + 512);
    answer.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n");
    answer.extend_from_slice(b"Lambda-Runtime-Aws-Request-Id: ");
    let id_at = answer.len();
    answer.extend_from_slice(REQUEST_ID_TEMPLATE);
    let _ = write!(
        answer,
        "\r\nLambda-Runtime-Deadline-Ms: {deadline_ms}\r\n\
         Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:bench\r\n\
         Lambda-Runtime-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1\r\n\
         Content-Length: {}\r\n\r\n",
        payload.len()
    );
    answer.extend_from_slice(payload);
    (answer, id_at)
}

/// The whole answer to an extension's `/event/next` that hands out `event`.
pub fn extension_event(event: &[u8]) -> Vec<u8> {
    let mut answer = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
         Lambda-Extension-Event-Identifier: 5f1c7a0e-event\r\nContent-Length: {}\r\n\r\n",
        event.len()
    )
    .into_bytes();
    answer.extend_from_slice(event);
    answer
}

/// A SHUTDOWN event (`spindown`) for an extension's `/event/next`, its deadline 2 s from now.
pub fn shutdown_event() -> Vec<u8> {
    let deadline_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
        + 2_000;
    format!(r#"{{"eventType":"SHUTDOWN","shutdownReason":"spindown","deadlineMs":{deadline_ms}}}"#)
        .into_bytes()
}

/// Writes the request id of invocation `index` over the 36 bytes of one (`into`).
pub fn write_request_id(into: &mut [u8], index: u32) {
    let mut n = index;
    for digit in into[REQUEST_ID_DIGITS].iter_mut().rev() {
        *digit = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// The request id of invocation `index`.
pub fn request_id(index: u32) -> [u8; 36] {
    let mut id = *REQUEST_ID_TEMPLATE;
    write_request_id(&mut id, index);
    id
}

/// The invocation index a request id carries, if it is one this server made.
pub fn request_index(id: &[u8]) -> Option<u32> {
    let digits = id.strip_prefix(&REQUEST_ID_TEMPLATE[..REQUEST_ID_DIGITS.start])?;
    if digits.len() != REQUEST_ID_DIGITS.len() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// A parsed request; `body` indexes the reader's buffer.
pub struct Request {
    pub kind: Endpoint,
    pub body: std::ops::Range<usize>,
    /// Bytes of the buffer this request used, body included.
    pub used: usize,
}

/// What a request is for.
pub enum Endpoint {
    /// `GET /runtime/invocation/next`.
    Next,
    /// `POST /runtime/invocation/{id}/response`, with where the id is.
    Response(std::ops::Range<usize>),
    /// `POST /runtime/invocation/{id}/error`, with where the id is.
    Error(std::ops::Range<usize>),
    /// `POST /runtime/init/error`.
    InitError,
    /// `POST /2020-01-01/extension/register`: answer [`REGISTERED`].
    ExtensionRegister,
    /// `GET /2020-01-01/extension/event/next`.
    ExtensionNext,
    /// `PUT /2022-07-01/telemetry`: answer [`SUBSCRIBED`].
    TelemetrySubscribe,
    /// Anything else: answer [`NOT_FOUND`].
    Unknown,
}

fn serve_connection(mut stream: TcpStream, current: &Mutex<Option<Arc<dyn Events>>>) {
    let _ = stream.set_nodelay(true);
    let mut reader = RequestReader::default();
    // This connection's copy of the current events' `/next` answer.
    let mut answer: Option<(Arc<dyn Events>, Vec<u8>)> = None;
    while let Ok(request) = reader.read_request(&mut stream) {
        let arrived = Instant::now();
        let Some(events) = lock(current).clone() else {
            return;
        };
        let body = &reader.buf[request.body.clone()];
        let written = match request.kind {
            Endpoint::Next => {
                if answer
                    .as_ref()
                    .is_some_and(|(e, _)| !Arc::ptr_eq(e, &events))
                {
                    answer = None;
                }
                let (_, next_answer) = answer
                    .get_or_insert_with(|| (Arc::clone(&events), events.next_answer().0.to_vec()));
                match events.next(arrived) {
                    Some(index) => {
                        let at = events.next_answer().1;
                        write_request_id(&mut next_answer[at..at + 36], index);
                        stream.write_all(next_answer)
                    }
                    // Leave the long poll open until the process is killed.
                    None => Ok(()),
                }
            }
            Endpoint::Response(ref id) | Endpoint::Error(ref id) => {
                let is_error = matches!(request.kind, Endpoint::Error(_));
                events.answered(&reader.buf[id.clone()], body, is_error, arrived);
                stream.write_all(ACCEPTED)
            }
            Endpoint::InitError => {
                events.init_error(body);
                stream.write_all(ACCEPTED)
            }
            Endpoint::ExtensionRegister => stream.write_all(REGISTERED),
            Endpoint::ExtensionNext => match events.extension_next(arrived) {
                Some(event) => stream.write_all(&extension_event(&event)),
                // Leave the long poll open until the process is killed.
                None => Ok(()),
            },
            Endpoint::TelemetrySubscribe => stream.write_all(SUBSCRIBED),
            Endpoint::Unknown => stream.write_all(NOT_FOUND),
        };
        if written.is_err() {
            return;
        }
        reader.consume(request.used);
    }
}

/// Reads HTTP/1.1 requests from one connection into a buffer kept for its whole life.
#[derive(Default)]
pub struct RequestReader {
    pub buf: Vec<u8>,
    filled: usize,
}

impl RequestReader {
    /// The next whole request; what arrived of one that is not whole yet stays for the next call.
    pub fn read_request(&mut self, stream: &mut TcpStream) -> io::Result<Request> {
        let head_end = loop {
            if let Some(i) = find(&self.buf[..self.filled], b"\r\n\r\n") {
                break i + 4;
            }
            self.fill(stream)?;
        };
        let head = &self.buf[..head_end];
        let line_end = find(head, b"\r\n").unwrap_or(head_end);
        let mut words = head[..line_end].split(|&b| b == b' ');
        let method = words.next().unwrap_or_default();
        let path = words.next().unwrap_or_default();
        let path_at = path.as_ptr() as usize - head.as_ptr() as usize;
        let kind = endpoint(method, path, path_at);

        let mut content_length = 0;
        let mut chunked = false;
        for line in head[line_end..].split(|&b| b == b'\n') {
            let Some(colon) = line.iter().position(|&b| b == b':') else {
                continue;
            };
            let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
            if name.eq_ignore_ascii_case(b"content-length") {
                content_length = std::str::from_utf8(value)
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .ok_or_else(|| io::Error::other("bad Content-Length"))?;
            } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
                chunked = value.eq_ignore_ascii_case(b"chunked");
            }
        }
        if chunked {
            return self.read_chunked(stream, kind, head_end);
        }
        let body = head_end..head_end + content_length;
        while self.filled < body.end {
            self.fill(stream)?;
        }
        Ok(Request {
            kind,
            used: body.end,
            body,
        })
    }

    /// Decodes a chunked body in place, so it ends up contiguous right after the headers.
    fn read_chunked(
        &mut self,
        stream: &mut TcpStream,
        kind: Endpoint,
        head_end: usize,
    ) -> io::Result<Request> {
        let mut body_end = head_end;
        let mut at = head_end;
        loop {
            let size_end = loop {
                if let Some(i) = find(&self.buf[at..self.filled], b"\r\n") {
                    break at + i;
                }
                self.fill(stream)?;
            };
            let size_text = &self.buf[at..size_end];
            let size_text = size_text.split(|&b| b == b';').next().unwrap_or_default();
            let size = std::str::from_utf8(size_text.trim_ascii())
                .ok()
                .and_then(|s| usize::from_str_radix(s, 16).ok())
                .ok_or_else(|| io::Error::other("bad chunk size"))?;
            let data = size_end + 2;
            if size == 0 {
                // No trailers are expected; the last chunk ends with an empty line.
                while self.filled < data + 2 {
                    self.fill(stream)?;
                }
                return Ok(Request {
                    kind,
                    body: head_end..body_end,
                    used: data + 2,
                });
            }
            while self.filled < data + size + 2 {
                self.fill(stream)?;
            }
            self.buf.copy_within(data..data + size, body_end);
            body_end += size;
            at = data + size + 2;
        }
    }

    // benches/floor reads the same way in its own copy: the floor measured depends on nothing.
    fn fill(&mut self, stream: &mut TcpStream) -> io::Result<()> {
        if self.filled == self.buf.len() {
            self.buf.resize((self.buf.len() * 2).max(64 * 1024), 0);
        }
        match stream.read(&mut self.buf[self.filled..])? {
            0 => Err(io::ErrorKind::UnexpectedEof.into()),
            n => {
                self.filled += n;
                Ok(())
            }
        }
    }

    /// Drops a request read, `used` bytes, from the front of the buffer.
    pub fn consume(&mut self, used: usize) {
        self.buf.copy_within(used..self.filled, 0);
        self.filled -= used;
    }
}

/// What a request is for; `path_at` is where `path` starts in the caller's buffer (the id's
/// range is given in that buffer; pass 0 for a range within `path`).
pub fn endpoint(method: &[u8], path: &[u8], path_at: usize) -> Endpoint {
    match method {
        b"POST" if path == EXTENSION_REGISTER => return Endpoint::ExtensionRegister,
        b"GET" if path == EXTENSION_NEXT => return Endpoint::ExtensionNext,
        b"PUT" if path == TELEMETRY => return Endpoint::TelemetrySubscribe,
        _ => {}
    }
    let Some(rest) = path.strip_prefix(API_PREFIX) else {
        return Endpoint::Unknown;
    };
    let rest_at = path_at + API_PREFIX.len();
    match method {
        b"GET" if rest == PATH_NEXT => Endpoint::Next,
        b"POST" if rest == PATH_INIT_ERROR => Endpoint::InitError,
        b"POST" => {
            let Some(tail) = rest.strip_prefix(PATH_INVOCATION) else {
                return Endpoint::Unknown;
            };
            let id_at = rest_at + PATH_INVOCATION.len();
            if let Some(id) = tail.strip_suffix(b"/response") {
                Endpoint::Response(id_at..id_at + id.len())
            } else if let Some(id) = tail.strip_suffix(b"/error") {
                Endpoint::Error(id_at..id_at + id.len())
            } else {
                Endpoint::Unknown
            }
        }
        _ => Endpoint::Unknown,
    }
}

/// Where `needle` first stands in `haystack`.
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_carry_the_invocation_index() {
        assert_eq!(&request_id(0), b"8476a536-e9f4-11e8-9739-000000000000");
        assert_eq!(&request_id(10_001), b"8476a536-e9f4-11e8-9739-000000010001");
        assert_eq!(request_index(&request_id(10_001)), Some(10_001));
        assert_eq!(request_index(b"8476a536-e9f4-11e8-9739-00000001000"), None);
        assert_eq!(request_index(b"8476a536-e9f4-11e8-9739-00000001000x"), None);
        assert_eq!(request_index(b"0000a536-e9f4-11e8-9739-000000010001"), None);
    }

    #[test]
    fn paths_are_classified_with_the_id_located() {
        let path = b"/2018-06-01/runtime/invocation/abc/response";
        match endpoint(b"POST", path, 100) {
            Endpoint::Response(id) => assert_eq!(&path[id.start - 100..id.end - 100], b"abc"),
            _ => panic!("not a response"),
        }
        assert!(matches!(
            endpoint(b"GET", b"/2018-06-01/runtime/invocation/next", 0),
            Endpoint::Next
        ));
        assert!(matches!(endpoint(b"GET", b"/other", 0), Endpoint::Unknown));
        assert!(matches!(
            endpoint(b"POST", b"/2020-01-01/extension/register", 0),
            Endpoint::ExtensionRegister
        ));
        assert!(matches!(
            endpoint(b"GET", b"/2020-01-01/extension/event/next", 0),
            Endpoint::ExtensionNext
        ));
        assert!(matches!(
            endpoint(b"PUT", b"/2022-07-01/telemetry", 0),
            Endpoint::TelemetrySubscribe
        ));
    }

    #[test]
    fn extension_answers_are_whole() {
        for answer in [REGISTERED, SUBSCRIBED, &extension_event(&shutdown_event())] {
            let head_end = find(answer, b"\r\n\r\n").unwrap() + 4;
            let head = std::str::from_utf8(&answer[..head_end]).unwrap();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length: "))
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(answer.len() - head_end, length, "{head}");
        }
    }
}
