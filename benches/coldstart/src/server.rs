//! The harness's own Runtime API on loopback: just what a runtime's invoke loop uses, timed.
//!
//! Kept small and constant so it does not blur the runtimes it measures: the `/next` answer
//! (headers and event) is built once per start and only the request id's digits are patched in
//! place; every connection reuses its read buffer; `TCP_NODELAY` is on; the only locks are
//! uncontended (one runtime process at a time). Each connection gets a thread.
//!
//! A start is a [`Session`]: it hands out `invocations` events, one at a time, and is done when
//! the runtime asks for one more. The runtime's last `GET /next` is left unanswered (as Lambda
//! leaves it while no event comes), so the process sits idle until the harness kills it.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const API_PREFIX: &[u8] = b"/2018-06-01";
const PATH_NEXT: &[u8] = b"/runtime/invocation/next";
const PATH_INVOCATION: &[u8] = b"/runtime/invocation/";
const PATH_INIT_ERROR: &[u8] = b"/runtime/init/error";

/// What the Runtime API answers to a posted response or error.
const ACCEPTED: &[u8] = b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n\
    Content-Length: 16\r\n\r\n{\"status\":\"OK\"}\n";
const NOT_FOUND: &[u8] = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";

/// Request ids are UUID-shaped; the invocation's index goes into the last 12 digits.
const REQUEST_ID_TEMPLATE: &[u8; 36] = b"8476a536-e9f4-11e8-9739-000000000000";
const REQUEST_ID_DIGITS: std::ops::Range<usize> = 24..36;

/// The fake Runtime API. Dropping it leaves the listener thread running: the harness exits soon
/// after anyway.
pub struct Server {
    addr: SocketAddr,
    current: Arc<Mutex<Option<Arc<Session>>>>,
    /// Connection threads still running.
    open: Arc<AtomicUsize>,
}

impl Server {
    /// Listens on an ephemeral port of 127.0.0.1.
    pub fn start() -> io::Result<Server> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let current: Arc<Mutex<Option<Arc<Session>>>> = Arc::default();
        let open = Arc::new(AtomicUsize::new(0));
        let (sessions, counter) = (Arc::clone(&current), Arc::clone(&open));
        std::thread::Builder::new()
            .name("runtime-api".into())
            .spawn(move || {
                for stream in listener.incoming().flatten() {
                    let sessions = Arc::clone(&sessions);
                    let open = Arc::clone(&counter);
                    counter.fetch_add(1, Ordering::SeqCst);
                    let spawned = std::thread::Builder::new()
                        .name("runtime-api-conn".into())
                        .spawn(move || {
                            serve_connection(stream, &sessions);
                            open.fetch_sub(1, Ordering::SeqCst);
                        });
                    if spawned.is_err() {
                        counter.fetch_sub(1, Ordering::SeqCst);
                    }
                }
            })?;
        Ok(Server {
            addr,
            current,
            open,
        })
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

    /// Makes `session` the one every request is served from, until the next call.
    pub fn begin(&self, session: &Arc<Session>) {
        *lock(&self.current) = Some(Arc::clone(session));
    }
}

/// What a response must be for the invocation to count as correct.
#[derive(Clone)]
pub enum Expected {
    /// These bytes exactly (echo).
    Bytes(Vec<u8>),
    /// This JSON value, however it is spaced (fibonacci).
    Json(serde_json::Value),
}

impl Expected {
    fn matches(&self, body: &[u8]) -> bool {
        match self {
            Expected::Bytes(bytes) => body == bytes.as_slice(),
            Expected::Json(value) => {
                serde_json::from_slice::<serde_json::Value>(body).is_ok_and(|v| v == *value)
            }
        }
    }
}

/// One process's run: `invocations` events of the same payload.
pub struct Session {
    invocations: u32,
    expected: Expected,
    /// The whole `/next` answer, request id digits to be patched.
    next_answer: Vec<u8>,
    /// Where the request id sits in `next_answer`.
    id_at: usize,
    progress: Mutex<Progress>,
    changed: Condvar,
}

/// What happened so far in a session; read by the harness once it is done.
#[derive(Default)]
pub struct Progress {
    /// When the first `GET /next` arrived (its headers read).
    pub first_next: Option<Instant>,
    /// Round trip of the first invocation: event handed out → whole response read.
    pub first_round_trip: Option<Duration>,
    /// The first response's body, as it came.
    pub first_response: Vec<u8>,
    /// Round trips of the other invocations, in nanoseconds.
    pub warm_ns: Vec<u64>,
    /// Responses that were not the expected bytes, error posts, and posts for unknown ids.
    pub failures: u32,
    /// The first failure, described.
    pub first_failure: Option<String>,
    /// True once the runtime asked for an event after the last one.
    pub done: bool,
    issued: u32,
    in_flight: Option<(u32, Instant)>,
}

impl Session {
    pub fn new(invocations: u32, payload: &[u8], expected: Expected) -> Arc<Session> {
        let deadline_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis()
            + 24 * 3600 * 1000;
        let mut next_answer = Vec::with_capacity(payload.len() + 512);
        next_answer.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n");
        next_answer.extend_from_slice(b"Lambda-Runtime-Aws-Request-Id: ");
        let id_at = next_answer.len();
        next_answer.extend_from_slice(REQUEST_ID_TEMPLATE);
        let _ = write!(
            next_answer,
            "\r\nLambda-Runtime-Deadline-Ms: {deadline_ms}\r\n\
             Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:bench\r\n\
             Lambda-Runtime-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1\r\n\
             Content-Length: {}\r\n\r\n",
            payload.len()
        );
        next_answer.extend_from_slice(payload);
        Arc::new(Session {
            invocations,
            expected,
            next_answer,
            id_at,
            progress: Mutex::default(),
            changed: Condvar::new(),
        })
    }

    /// Waits up to `timeout` for the session to be done; returns whether it is.
    pub fn wait_done(&self, timeout: Duration) -> bool {
        let progress = lock(&self.progress);
        let (progress, _) = self
            .changed
            .wait_timeout_while(progress, timeout, |p| !p.done)
            .unwrap_or_else(PoisonError::into_inner);
        progress.done
    }

    /// Takes the results out; the session is over.
    pub fn take_progress(&self) -> Progress {
        std::mem::take(&mut *lock(&self.progress))
    }

    fn fail(&self, progress: &mut Progress, what: String) {
        progress.failures += 1;
        progress.first_failure.get_or_insert(what);
        self.changed.notify_all();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn write_request_id(into: &mut [u8], index: u32) {
    let mut n = index;
    for digit in into[REQUEST_ID_DIGITS].iter_mut().rev() {
        *digit = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// The request id of invocation `index`.
fn request_id(index: u32) -> [u8; 36] {
    let mut id = *REQUEST_ID_TEMPLATE;
    write_request_id(&mut id, index);
    id
}

/// A parsed request; `body` indexes the reader's buffer.
struct Request {
    kind: Kind,
    body: std::ops::Range<usize>,
    /// Bytes of the buffer this request used, body included.
    used: usize,
}

enum Kind {
    Next,
    Response(std::ops::Range<usize>),
    Error(std::ops::Range<usize>),
    InitError,
    Unknown,
}

fn serve_connection(mut stream: TcpStream, sessions: &Mutex<Option<Arc<Session>>>) {
    let _ = stream.set_nodelay(true);
    let mut reader = RequestReader::default();
    // This connection's copy of the current session's `/next` answer.
    let mut answer: Option<(Arc<Session>, Vec<u8>)> = None;
    while let Ok(request) = reader.read_request(&mut stream) {
        let arrived = Instant::now();
        let Some(session) = lock(sessions).clone() else {
            return;
        };
        let body = &reader.buf[request.body.clone()];
        let written = match request.kind {
            Kind::Next => {
                if answer
                    .as_ref()
                    .is_some_and(|(s, _)| !Arc::ptr_eq(s, &session))
                {
                    answer = None;
                }
                let (_, next_answer) = answer
                    .get_or_insert_with(|| (Arc::clone(&session), session.next_answer.clone()));
                let index = {
                    let mut progress = lock(&session.progress);
                    progress.first_next.get_or_insert(arrived);
                    if progress.issued == session.invocations {
                        progress.done = true;
                        session.changed.notify_all();
                        None
                    } else {
                        progress.issued += 1;
                        let index = progress.issued - 1;
                        progress.in_flight = Some((index, Instant::now()));
                        Some(index)
                    }
                };
                match index {
                    Some(index) => {
                        let at = session.id_at;
                        write_request_id(&mut next_answer[at..at + 36], index);
                        stream.write_all(next_answer)
                    }
                    // No more events: leave the long poll open until the process is killed.
                    None => Ok(()),
                }
            }
            Kind::Response(ref id) | Kind::Error(ref id) => {
                let is_error = matches!(request.kind, Kind::Error(_));
                let correct = !is_error && session.expected.matches(body);
                let id = &reader.buf[id.clone()];
                let mut progress = lock(&session.progress);
                match progress.in_flight.take() {
                    Some((index, handed_out)) if id == request_id(index) => {
                        let round_trip = arrived - handed_out;
                        if index == 0 {
                            progress.first_round_trip = Some(round_trip);
                            progress.first_response = body.to_vec();
                        } else {
                            progress.warm_ns.push(round_trip.as_nanos() as u64);
                        }
                        if !correct {
                            let what = format!(
                                "invocation {index}: {} {}",
                                if is_error { "error" } else { "wrong response" },
                                String::from_utf8_lossy(&body[..body.len().min(200)])
                            );
                            session.fail(&mut progress, what);
                        }
                    }
                    other => {
                        progress.in_flight = other;
                        let what = format!("post for unknown id {}", String::from_utf8_lossy(id));
                        session.fail(&mut progress, what);
                    }
                }
                drop(progress);
                stream.write_all(ACCEPTED)
            }
            Kind::InitError => {
                let what = format!("init error: {}", String::from_utf8_lossy(body));
                session.fail(&mut lock(&session.progress), what);
                stream.write_all(ACCEPTED)
            }
            Kind::Unknown => stream.write_all(NOT_FOUND),
        };
        if written.is_err() {
            return;
        }
        reader.consume(request.used);
    }
}

/// Reads HTTP/1.1 requests from one connection into a buffer kept for its whole life.
#[derive(Default)]
struct RequestReader {
    buf: Vec<u8>,
    filled: usize,
}

impl RequestReader {
    fn read_request(&mut self, stream: &mut TcpStream) -> io::Result<Request> {
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
        let kind = classify(method, path, path_at);

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
        kind: Kind,
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

    fn consume(&mut self, used: usize) {
        self.buf.copy_within(used..self.filled, 0);
        self.filled -= used;
    }
}

/// What a request is for; `path_at` is where `path` starts in the buffer (for the id's range).
fn classify(method: &[u8], path: &[u8], path_at: usize) -> Kind {
    let Some(rest) = path.strip_prefix(API_PREFIX) else {
        return Kind::Unknown;
    };
    let rest_at = path_at + API_PREFIX.len();
    match method {
        b"GET" if rest == PATH_NEXT => Kind::Next,
        b"POST" if rest == PATH_INIT_ERROR => Kind::InitError,
        b"POST" => {
            let Some(tail) = rest.strip_prefix(PATH_INVOCATION) else {
                return Kind::Unknown;
            };
            let id_at = rest_at + PATH_INVOCATION.len();
            if let Some(id) = tail.strip_suffix(b"/response") {
                Kind::Response(id_at..id_at + id.len())
            } else if let Some(id) = tail.strip_suffix(b"/error") {
                Kind::Error(id_at..id_at + id.len())
            } else {
                Kind::Unknown
            }
        }
        _ => Kind::Unknown,
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_carry_the_invocation_index() {
        assert_eq!(&request_id(0), b"8476a536-e9f4-11e8-9739-000000000000");
        assert_eq!(&request_id(10_001), b"8476a536-e9f4-11e8-9739-000000010001");
    }

    #[test]
    fn paths_are_classified_with_the_id_located() {
        let path = b"/2018-06-01/runtime/invocation/abc/response";
        match classify(b"POST", path, 100) {
            Kind::Response(id) => assert_eq!(&path[id.start - 100..id.end - 100], b"abc"),
            _ => panic!("not a response"),
        }
        assert!(matches!(
            classify(b"GET", b"/2018-06-01/runtime/invocation/next", 0),
            Kind::Next
        ));
        assert!(matches!(classify(b"GET", b"/other", 0), Kind::Unknown));
    }
}
