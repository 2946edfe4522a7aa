//! The harness's Runtime API on loopback, one per function, that hands out one invocation when
//! the harness says so and times how its response arrives.
//!
//! `GET /next` is held (as Lambda holds it) until [`Api::invoke`] releases it; the instant just
//! before the answer is written is the invocation's zero. The `POST …/response` is read as it
//! arrives, buffered (`Content-Length`) or chunked (`Transfer-Encoding: chunked`, trailers
//! included), with the instant of every read that brought body bytes; from those come the time
//! to the first body byte, to the first byte after a function URL prelude, and to the end of the
//! body. The body is checked and answered with 202 after the last byte is timed, so neither
//! counts.
//!
//! Kept cheap and the same for every function: body bytes are read straight from the socket
//! into a buffer kept for the connection's life (no copy, no allocation once warm); only the
//! chunk framing goes through a small read buffer.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bench_support::lock;
use bench_support::runtime_api::{
    ACCEPTED, Endpoint, Listener, NOT_FOUND, endpoint, find, next_answer, request_id,
};

use crate::check::{Body, Expected};

/// The headers of a posted response that say how it was sent.
#[derive(Clone, Debug, Default)]
pub struct PostHeaders {
    pub response_mode: Option<String>,
    pub transfer_encoding: Option<String>,
    /// `Trailer:` values, joined with ", " when the header is repeated.
    pub trailer: Option<String>,
    pub content_type: Option<String>,
    pub content_length: Option<usize>,
}

/// One invocation, as the Runtime API saw it.
#[derive(Clone, Debug)]
pub struct Record {
    /// `/response` or `/error`.
    pub endpoint: &'static str,
    pub headers: PostHeaders,
    /// The `/next` answer is about to be written → the request's head read (the function has
    /// begun its `POST`).
    pub head: Duration,
    /// → the first body byte read.
    pub first_body_byte: Option<Duration>,
    /// → the first byte after a function URL prelude and its 8 NULs (the first body byte when
    /// there is no prelude): the first byte the caller would get.
    pub first_payload_byte: Option<Duration>,
    /// → the end of the body read (for a chunked body: the last chunk and the trailers).
    pub end: Duration,
    /// Sizes of the chunks as they came on the wire (empty for a Content-Length body).
    pub chunks: Vec<usize>,
    /// Trailer fields after the last chunk.
    pub trailers: Vec<(String, String)>,
    pub body_bytes: usize,
    /// What is wrong with the response, if anything.
    pub problem: Option<String>,
    /// Error-trailer text found inside the body (how `lambda_runtime` reports a mid-stream
    /// error), the first 200 bytes from it.
    pub error_in_body: Option<String>,
}

/// The Runtime API of one function.
pub struct Api {
    listener: Listener,
    shared: Arc<Shared>,
}

struct Shared {
    /// The whole `/next` answer; the request id's last 12 digits are patched per invocation.
    next_answer: Vec<u8>,
    id_at: usize,
    expected: Expected,
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Default)]
struct State {
    /// A `GET /next` is waiting for an event.
    parked: bool,
    /// The invocation to hand out next.
    go: Option<u32>,
    /// The invocation handed out, and its zero.
    handed_out: Option<(u32, Instant)>,
    /// The answer to the invocation handed out.
    record: Option<Record>,
    /// Requests that made no sense (unknown id, init error, bad framing).
    trouble: Vec<String>,
    shutdown: bool,
}

impl Api {
    /// Listens on an ephemeral port of 127.0.0.1; every invocation gets `event`.
    pub fn start(event: &[u8], expected: Expected) -> io::Result<Api> {
        let (next_answer, id_at) = next_answer(event);
        let shared = Arc::new(Shared {
            next_answer,
            id_at,
            expected,
            state: Mutex::default(),
            changed: Condvar::new(),
        });
        let serving = Arc::clone(&shared);
        let listener = Listener::start(move |stream| serve(stream, &serving))?;
        Ok(Api { listener, shared })
    }

    /// `host:port`, as `AWS_LAMBDA_RUNTIME_API` carries it.
    pub fn addr(&self) -> SocketAddr {
        self.listener.addr()
    }

    /// Waits up to `timeout` for the function to ask for an event; returns whether it has.
    pub fn wait_parked(&self, timeout: Duration) -> bool {
        let state = lock(&self.shared.state);
        let (state, _) = self
            .shared
            .changed
            .wait_timeout_while(state, timeout, |s| !s.parked)
            .unwrap_or_else(PoisonError::into_inner);
        state.parked
    }

    /// Hands out invocation `index` and waits (up to `timeout`) until its answer has been read
    /// and the function has asked for the next event, so that nothing of this invocation runs
    /// into the next one measured. `Ok(None)` on timeout.
    pub fn invoke(&self, index: u32, timeout: Duration) -> Result<Option<Record>, String> {
        let mut state = lock(&self.shared.state);
        if !state.parked {
            return Err("the function is not waiting for an event".to_owned());
        }
        state.record = None;
        state.go = Some(index);
        self.shared.changed.notify_all();
        let (mut state, _) = self
            .shared
            .changed
            .wait_timeout_while(state, timeout, |s| {
                s.record.is_none() || !s.parked || s.go.is_some()
            })
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(trouble) = state.trouble.first() {
            return Err(trouble.clone());
        }
        if state.record.is_some() && state.parked {
            Ok(state.record.take())
        } else {
            Ok(None)
        }
    }

    /// Releases held polls and lets connection threads end.
    pub fn shut_down(&self) {
        lock(&self.shared.state).shutdown = true;
        self.shared.changed.notify_all();
    }
}

/// One connection: requests one after another (HTTP/1.1 keep-alive).
fn serve(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_nodelay(true);
    let mut conn = Conn::new(stream);
    let mut answer = shared.next_answer.clone();
    loop {
        let head = match conn.read_head() {
            Ok(head) => head,
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return,
            Err(e) => return trouble(shared, format!("reading a request: {e}")),
        };
        let written = match route(&head) {
            Route::Next => match hold_next(shared) {
                Some(index) => {
                    answer[shared.id_at..shared.id_at + 36].copy_from_slice(&request_id(index));
                    // The zero is taken, and published, before the answer goes out: the
                    // response may arrive on another connection.
                    let zero = Instant::now();
                    lock(&shared.state).handed_out = Some((index, zero));
                    conn.stream.write_all(&answer)
                }
                None => return,
            },
            Route::Post { id, endpoint } => {
                let read = conn.read_body(&head);
                let (timing, body) = match read {
                    Ok(read) => read,
                    Err(e) => return trouble(shared, format!("reading a {endpoint} body: {e}")),
                };
                let mut state = lock(&shared.state);
                match state.handed_out.take() {
                    Some((index, zero)) if id.as_bytes() == request_id(index) => {
                        drop(state);
                        let record = timing.record(&head, endpoint, zero, body, &shared.expected);
                        let mut state = lock(&shared.state);
                        state.record = Some(record);
                        drop(state);
                        // The harness moves on once the function, answered, polls again.
                        let written = conn.stream.write_all(ACCEPTED);
                        shared.changed.notify_all();
                        written
                    }
                    other => {
                        state.handed_out = other;
                        drop(state);
                        trouble(
                            shared,
                            format!("a {endpoint} for an unknown request id {id}"),
                        );
                        conn.stream.write_all(ACCEPTED)
                    }
                }
            }
            Route::InitError => {
                let body = conn
                    .read_body(&head)
                    .map(|(_, b)| String::from_utf8_lossy(b).into_owned());
                trouble(shared, format!("init error: {}", body.unwrap_or_default()));
                conn.stream.write_all(ACCEPTED)
            }
            Route::Unknown => {
                let _ = conn.read_body(&head);
                conn.stream.write_all(NOT_FOUND)
            }
        };
        if written.is_err() {
            return;
        }
    }
}

fn trouble(shared: &Shared, what: String) {
    lock(&shared.state).trouble.push(what);
    shared.changed.notify_all();
}

/// Parks a `GET /next` until the harness hands out an invocation; `None` on shutdown.
fn hold_next(shared: &Shared) -> Option<u32> {
    let mut state = lock(&shared.state);
    state.parked = true;
    shared.changed.notify_all();
    let mut state = shared
        .changed
        .wait_while(state, |s| s.go.is_none() && !s.shutdown)
        .unwrap_or_else(PoisonError::into_inner);
    if state.shutdown {
        return None;
    }
    state.parked = false;
    state.go.take()
}

/// A request's first line and the headers the harness reads.
struct Head {
    /// When its last byte was read.
    read_at: Instant,
    method: String,
    path: String,
    chunked: bool,
    post: PostHeaders,
}

enum Route {
    Next,
    Post { id: String, endpoint: &'static str },
    InitError,
    Unknown,
}

fn route(head: &Head) -> Route {
    let post = |id: std::ops::Range<usize>, endpoint| Route::Post {
        id: head.path[id].to_owned(),
        endpoint,
    };
    match endpoint(head.method.as_bytes(), head.path.as_bytes(), 0) {
        Endpoint::Next => Route::Next,
        Endpoint::Response(id) => post(id, "/response"),
        Endpoint::Error(id) => post(id, "/error"),
        Endpoint::InitError => Route::InitError,
        Endpoint::ExtensionRegister
        | Endpoint::ExtensionNext
        | Endpoint::TelemetrySubscribe
        | Endpoint::Unknown => Route::Unknown,
    }
}

/// When the bytes of one body came in.
struct Timing {
    /// (instant of the read, body bytes in hand after it), one per read that brought body bytes.
    marks: Vec<(Instant, usize)>,
    /// The last read of the request (the end of the body, or of the trailers).
    end: Instant,
    chunks: Vec<usize>,
    trailers: Vec<(String, String)>,
}

impl Timing {
    fn record(
        self,
        head: &Head,
        endpoint: &'static str,
        zero: Instant,
        body: &[u8],
        expected: &Expected,
    ) -> Record {
        let since = |at: Instant| at.saturating_duration_since(zero);
        let headers = head.post.clone();
        let checked = Body::split(body, headers.content_type.as_deref());
        let payload_at = checked.payload_offset();
        let first_past = |offset: usize| {
            self.marks
                .iter()
                .find(|(_, len)| *len > offset)
                .map(|&(at, _)| since(at))
        };
        let problem = if endpoint == "/error" {
            Some(format!(
                "posted to /error: {}",
                String::from_utf8_lossy(&body[..body.len().min(200)])
            ))
        } else {
            expected.problem(&checked, &headers, &self.trailers)
        };
        // A correct payload leaves no room for error text: only the other bodies are searched.
        let searched = problem.is_some() || matches!(expected, Expected::Anything);
        Record {
            endpoint,
            head: since(head.read_at),
            first_body_byte: first_past(0),
            first_payload_byte: first_past(payload_at),
            end: since(self.end),
            body_bytes: body.len(),
            error_in_body: if searched {
                checked.error_in_body()
            } else {
                None
            },
            problem,
            headers,
            chunks: self.chunks,
            trailers: self.trailers,
        }
    }
}

/// One connection's socket and buffers, kept for its life.
struct Conn {
    stream: TcpStream,
    /// Framing and heads; body bytes that came along with them are moved out.
    buf: Vec<u8>,
    pos: usize,
    filled: usize,
    /// The body of the current request, read into directly.
    body: Vec<u8>,
    /// The instant of the last read that returned bytes.
    last_read: Instant,
}

impl Conn {
    fn new(stream: TcpStream) -> Conn {
        Conn {
            stream,
            buf: vec![0; 16 * 1024],
            pos: 0,
            filled: 0,
            body: Vec::new(),
            last_read: Instant::now(),
        }
    }

    /// Reads more into `buf`, keeping what is unread.
    fn fill(&mut self) -> io::Result<()> {
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.filled, 0);
            self.filled -= self.pos;
            self.pos = 0;
        }
        if self.filled == self.buf.len() {
            if self.buf.len() >= 1024 * 1024 {
                return Err(io::Error::other("a request head or chunk line over 1 MiB"));
            }
            self.buf.resize(self.buf.len() * 2, 0);
        }
        match self.stream.read(&mut self.buf[self.filled..])? {
            0 => Err(io::ErrorKind::UnexpectedEof.into()),
            n => {
                self.last_read = Instant::now();
                self.filled += n;
                Ok(())
            }
        }
    }

    /// The next line (without its CRLF), from `buf`.
    fn read_line(&mut self) -> io::Result<String> {
        loop {
            if let Some(i) = find(&self.buf[self.pos..self.filled], b"\r\n") {
                let line = String::from_utf8_lossy(&self.buf[self.pos..self.pos + i]).into_owned();
                self.pos += i + 2;
                return Ok(line);
            }
            self.fill()?;
        }
    }

    fn read_head(&mut self) -> io::Result<Head> {
        let first = self.read_line()?;
        let mut words = first.split(' ');
        let method = words.next().unwrap_or_default().to_owned();
        let path = words.next().unwrap_or_default().to_owned();
        let mut head = Head {
            read_at: self.last_read,
            method,
            path,
            chunked: false,
            post: PostHeaders::default(),
        };
        loop {
            let line = self.read_line()?;
            if line.is_empty() {
                head.read_at = self.last_read;
                return Ok(head);
            }
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim().to_owned();
            let post = &mut head.post;
            match name.to_ascii_lowercase().as_str() {
                "content-length" => {
                    post.content_length = Some(
                        value
                            .parse()
                            .map_err(|_| io::Error::other("bad Content-Length"))?,
                    );
                }
                "transfer-encoding" => {
                    head.chunked = value.eq_ignore_ascii_case("chunked");
                    post.transfer_encoding = Some(value);
                }
                "lambda-runtime-function-response-mode" => post.response_mode = Some(value),
                "content-type" => post.content_type = Some(value),
                "trailer" => match &mut post.trailer {
                    Some(joined) => {
                        joined.push_str(", ");
                        joined.push_str(&value);
                    }
                    None => post.trailer = Some(value),
                },
                _ => {}
            }
        }
    }

    /// Reads the body `head` announces, timing each read.
    fn read_body(&mut self, head: &Head) -> io::Result<(Timing, &[u8])> {
        let mut timing = Timing {
            marks: Vec::with_capacity(64),
            end: self.last_read,
            chunks: Vec::new(),
            trailers: Vec::new(),
        };
        let mut len = 0;
        if head.chunked {
            loop {
                let line = self.read_line()?;
                let size_text = line.split(';').next().unwrap_or_default().trim();
                let size = usize::from_str_radix(size_text, 16)
                    .map_err(|_| io::Error::other(format!("bad chunk size line {line:?}")))?;
                if size == 0 {
                    loop {
                        let line = self.read_line()?;
                        if line.is_empty() {
                            break;
                        }
                        if let Some((name, value)) = line.split_once(':') {
                            timing
                                .trailers
                                .push((name.trim().to_owned(), value.trim().to_owned()));
                        }
                    }
                    break;
                }
                self.read_exact_body(len, size, &mut timing.marks)?;
                len += size;
                timing.chunks.push(size);
                if !self.read_line()?.is_empty() {
                    return Err(io::Error::other("a chunk not ended by CRLF"));
                }
            }
        } else {
            let size = head.post.content_length.unwrap_or(0);
            self.read_exact_body(0, size, &mut timing.marks)?;
            len = size;
        }
        timing.end = self.last_read;
        Ok((timing, &self.body[..len]))
    }

    /// Reads `n` body bytes to `body[at..]`: first those already in `buf`, then straight from
    /// the socket.
    fn read_exact_body(
        &mut self,
        at: usize,
        n: usize,
        marks: &mut Vec<(Instant, usize)>,
    ) -> io::Result<()> {
        if self.body.len() < at + n {
            // Zeroed once and kept: after the first response it never grows again.
            self.body.resize((at + n).next_power_of_two(), 0);
        }
        let buffered = (self.filled - self.pos).min(n);
        if buffered > 0 {
            self.body[at..at + buffered].copy_from_slice(&self.buf[self.pos..self.pos + buffered]);
            self.pos += buffered;
            marks.push((self.last_read, at + buffered));
        }
        let mut done = buffered;
        while done < n {
            match self.stream.read(&mut self.body[at + done..at + n])? {
                0 => return Err(io::ErrorKind::UnexpectedEof.into()),
                read => {
                    self.last_read = Instant::now();
                    done += read;
                    marks.push((self.last_read, at + done));
                }
            }
        }
        Ok(())
    }
}
