//! The harness's own Runtime API on loopback: just what a runtime's invoke loop uses, timed.
//!
//! Kept small and constant so it does not blur the runtimes it measures: the `/next` answer
//! (headers and event) is built once per start and only the request id's digits are patched in
//! place; every connection reuses its read buffer; `TCP_NODELAY` is on. Each connection gets a
//! thread, so a runtime may hold as many `/next` long polls at once as it has workers.
//!
//! What the connections serve is an [`Events`]:
//!
//! - a [`Session`] (the cold-start benchmark): `invocations` events, one at a time, done when the
//!   runtime asks for one more. The runtime's last `GET /next` is left unanswered (as Lambda
//!   leaves it while no event comes), so the process sits idle until the harness kills it. The
//!   first two polls are held until the harness lets them through, so it can read the process
//!   while it waits in them (page faults of init, CPU time before the warm run). Its locks are
//!   uncontended (one invocation at a time).
//! - a [`Batch`] (the concurrency benchmark): events handed out to every poll at once, as many as
//!   the harness has released; a poll with nothing to take waits, as on Lambda Managed Instances
//!   when no invocation comes. Every answer is checked against its request id: each event
//!   answered exactly once, with the right body.

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
pub(crate) const ACCEPTED: &[u8] = b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n\
    Content-Length: 16\r\n\r\n{\"status\":\"OK\"}\n";
const NOT_FOUND: &[u8] = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";

/// Request ids are UUID-shaped; the invocation's index goes into the last 12 digits.
const REQUEST_ID_TEMPLATE: &[u8; 36] = b"8476a536-e9f4-11e8-9739-000000000000";
const REQUEST_ID_DIGITS: std::ops::Range<usize> = 24..36;

/// The fake Runtime API. Dropping it leaves the listener thread running: the harness exits soon
/// after anyway.
pub struct Server {
    addr: SocketAddr,
    current: Arc<Mutex<Option<Arc<dyn Events>>>>,
    /// Connection threads still running.
    open: Arc<AtomicUsize>,
}

impl Server {
    /// Listens on an ephemeral port of 127.0.0.1.
    pub fn start() -> io::Result<Server> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let current: Arc<Mutex<Option<Arc<dyn Events>>>> = Arc::new(Mutex::new(None));
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

    /// Makes `events` what every request is served from, until the next call.
    pub fn begin(&self, events: Arc<dyn Events>) {
        *lock(&self.current) = Some(events);
    }
}

/// What the connections serve, and where the answers go.
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
}

/// What a response must be for the invocation to count as correct.
#[derive(Clone)]
pub enum Expected {
    /// These bytes exactly (echo).
    Bytes(Vec<u8>),
    /// This JSON value, however it is spaced (fibonacci).
    Json(serde_json::Value),
    /// An HTTP answer of status 200 whose JSON body describes a request from this source with
    /// this method (the web functions; the runtimes spell the answer's headers differently).
    WebDescription {
        source: &'static str,
        method: &'static str,
    },
}

impl Expected {
    pub(crate) fn matches(&self, body: &[u8]) -> bool {
        match self {
            Expected::Bytes(bytes) => body == bytes.as_slice(),
            Expected::Json(value) => {
                serde_json::from_slice::<serde_json::Value>(body).is_ok_and(|v| v == *value)
            }
            Expected::WebDescription { source, method } => {
                let Ok(answer) = serde_json::from_slice::<serde_json::Value>(body) else {
                    return false;
                };
                let described = answer["body"]
                    .as_str()
                    .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok());
                answer["statusCode"] == 200
                    && described.is_some_and(|d| d["source"] == *source && d["method"] == *method)
            }
        }
    }
}

/// How many of a session's first polls are held for the harness: the first (init's end) and the
/// second (the warm run's start).
const HELD_POLLS: u32 = 2;

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
    /// `GET /next` polls arrived so far.
    polls: u32,
    /// Held polls the harness has let through (all, once it closed the session).
    let_through: u32,
    issued: u32,
    in_flight: Option<(u32, Instant)>,
}

impl Session {
    pub fn new(invocations: u32, payload: &[u8], expected: Expected) -> Arc<Session> {
        let (next_answer, id_at) = next_answer(payload);
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

    /// Waits up to `timeout` until `GET /next` number `poll` (from 0) has arrived, or the session
    /// is done; returns whether it has. Polls 0 and 1 are then held, unanswered, until
    /// [`Session::let_through`].
    pub fn wait_for_poll(&self, poll: u32, timeout: Duration) -> bool {
        let progress = lock(&self.progress);
        let (progress, _) = self
            .changed
            .wait_timeout_while(progress, timeout, |p| p.polls <= poll && !p.done)
            .unwrap_or_else(PoisonError::into_inner);
        progress.polls > poll
    }

    /// Lets the next held poll get its event.
    pub fn let_through(&self) {
        lock(&self.progress).let_through += 1;
        self.changed.notify_all();
    }

    /// Holds no poll any more: called before the process is killed, so a poll still held ends
    /// (and its connection thread with it).
    pub fn close(&self) {
        lock(&self.progress).let_through = u32::MAX;
        self.changed.notify_all();
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

impl Events for Session {
    fn next_answer(&self) -> (&[u8], usize) {
        (&self.next_answer, self.id_at)
    }

    fn next(&self, arrived: Instant) -> Option<u32> {
        let mut progress = lock(&self.progress);
        progress.first_next.get_or_insert(arrived);
        progress.polls += 1;
        self.changed.notify_all();
        if progress.issued == self.invocations {
            // No more events: the long poll stays open until the process is killed.
            progress.done = true;
            self.changed.notify_all();
            return None;
        }
        // Events 0 and 1 wait for the harness, which reads the process meanwhile; the round
        // trip is timed from the hand-out below, so the wait is not in it.
        while progress.issued < HELD_POLLS && progress.issued >= progress.let_through {
            progress = self
                .changed
                .wait(progress)
                .unwrap_or_else(PoisonError::into_inner);
        }
        progress.issued += 1;
        let index = progress.issued - 1;
        progress.in_flight = Some((index, Instant::now()));
        Some(index)
    }

    fn answered(&self, id: &[u8], body: &[u8], is_error: bool, arrived: Instant) {
        let correct = !is_error && self.expected.matches(body);
        let mut progress = lock(&self.progress);
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
                    let what = format!("invocation {index}: {}", wrong(is_error, body));
                    self.fail(&mut progress, what);
                }
            }
            other => {
                progress.in_flight = other;
                let what = format!("post for unknown id {}", String::from_utf8_lossy(id));
                self.fail(&mut progress, what);
            }
        }
    }

    fn init_error(&self, body: &[u8]) {
        let what = format!("init error: {}", String::from_utf8_lossy(body));
        self.fail(&mut lock(&self.progress), what);
    }
}

/// The events of a concurrent run. The harness releases them in lots ([`Batch::release`]); every
/// `GET /next` takes the next released event at once, or waits for the next lot. A response is
/// matched to its event by the index in its request id, so answers may come in any order, from
/// any connection; a second answer for one event is a failure.
pub struct Batch {
    expected: Expected,
    next_answer: Vec<u8>,
    id_at: usize,
    state: Mutex<BatchState>,
    /// Polls waiting for an event are woken here (a release, or the end).
    released: Condvar,
    /// The harness is woken here: a poll started waiting, all released events were answered, or
    /// something failed.
    progressed: Condvar,
}

#[derive(Default)]
struct BatchState {
    /// Events the harness has let out so far.
    released: u32,
    /// Per event handed out, in order: when it went out, until it is answered.
    handed_out: Vec<Option<Instant>>,
    /// Per event answered: its round trip, handed out → whole answer read, in nanoseconds.
    round_trip_ns: Vec<u64>,
    answered: u32,
    /// `GET /next` polls waiting for an event now.
    waiting: u32,
    in_flight: u32,
    max_in_flight: u32,
    last_answer: Option<Instant>,
    failures: u32,
    first_failure: Option<String>,
    closed: bool,
}

impl BatchState {
    fn fail(&mut self, what: String) {
        self.failures += 1;
        self.first_failure.get_or_insert(what);
    }
}

/// What a [`Batch`] saw, taken out at its end.
pub struct BatchResults {
    /// Round trips of the events `from..` as the harness asked, sorted, in nanoseconds.
    pub round_trip_ns: Vec<u64>,
    /// The most events handed out and not yet answered at one time.
    pub max_in_flight: u32,
    /// Wrong bodies, error reports, answers for ids never handed out or already answered.
    pub failures: u32,
    pub first_failure: Option<String>,
}

impl Batch {
    pub fn new(payload: &[u8], expected: Expected) -> Arc<Batch> {
        let (next_answer, id_at) = next_answer(payload);
        Arc::new(Batch {
            expected,
            next_answer,
            id_at,
            state: Mutex::default(),
            released: Condvar::new(),
            progressed: Condvar::new(),
        })
    }

    /// Lets `count` more events out (to the polls waiting now and to those to come); returns the
    /// moment they were released.
    pub fn release(&self, count: u32) -> Instant {
        let mut state = lock(&self.state);
        state.released += count;
        let at = Instant::now();
        self.released.notify_all();
        at
    }

    /// Waits up to `timeout` until every released event has been answered and at least
    /// `workers` polls wait for more, that is until all the runtime's workers are idle; returns
    /// whether they are, and how many polls wait.
    pub fn wait_idle(&self, workers: u32, timeout: Duration) -> (bool, u32) {
        let state = lock(&self.state);
        let (state, _) = self
            .progressed
            .wait_timeout_while(state, timeout, |s| {
                !(s.answered == s.released && s.waiting >= workers)
            })
            .unwrap_or_else(PoisonError::into_inner);
        (
            state.answered == state.released && state.waiting >= workers,
            state.waiting,
        )
    }

    /// Answers no more events: the waiting polls stay unanswered until the process is killed.
    pub fn close(&self) {
        lock(&self.state).closed = true;
        self.released.notify_all();
    }

    /// When the last answer arrived, if any has.
    pub fn last_answer(&self) -> Option<Instant> {
        lock(&self.state).last_answer
    }

    /// The results so far; round trips of the events from index `from` on.
    pub fn results(&self, from: u32) -> BatchResults {
        let state = lock(&self.state);
        let mut round_trip_ns = state
            .round_trip_ns
            .get(from as usize..)
            .unwrap_or_default()
            .to_vec();
        round_trip_ns.sort_unstable();
        BatchResults {
            round_trip_ns,
            max_in_flight: state.max_in_flight,
            failures: state.failures,
            first_failure: state.first_failure.clone(),
        }
    }
}

impl Events for Batch {
    fn next_answer(&self) -> (&[u8], usize) {
        (&self.next_answer, self.id_at)
    }

    fn next(&self, _arrived: Instant) -> Option<u32> {
        let mut state = lock(&self.state);
        let has_event = |s: &BatchState| s.closed || (s.handed_out.len() as u32) < s.released;
        if !has_event(&state) {
            state.waiting += 1;
            self.progressed.notify_all();
            state = self
                .released
                .wait_while(state, |s| !has_event(s))
                .unwrap_or_else(PoisonError::into_inner);
            state.waiting -= 1;
        }
        if state.closed {
            return None;
        }
        let index = state.handed_out.len() as u32;
        state.handed_out.push(Some(Instant::now()));
        state.round_trip_ns.push(0);
        state.in_flight += 1;
        state.max_in_flight = state.max_in_flight.max(state.in_flight);
        Some(index)
    }

    fn answered(&self, id: &[u8], body: &[u8], is_error: bool, arrived: Instant) {
        let correct = !is_error && self.expected.matches(body);
        let mut state = lock(&self.state);
        let handed_out = request_index(id)
            .and_then(|index| Some((index, state.handed_out.get_mut(index as usize)?.take()?)));
        let Some((index, handed_out)) = handed_out else {
            let what = format!(
                "post for an id never handed out or already answered: {}",
                String::from_utf8_lossy(id)
            );
            state.fail(what);
            self.progressed.notify_all();
            return;
        };
        state.round_trip_ns[index as usize] = (arrived - handed_out).as_nanos() as u64;
        state.answered += 1;
        state.in_flight -= 1;
        state.last_answer = Some(arrived);
        if !correct {
            state.fail(format!("invocation {index}: {}", wrong(is_error, body)));
        }
        if !correct || state.answered == state.released {
            self.progressed.notify_all();
        }
    }

    fn init_error(&self, body: &[u8]) {
        let mut state = lock(&self.state);
        state.fail(format!("init error: {}", String::from_utf8_lossy(body)));
        self.progressed.notify_all();
    }
}

/// The whole `/next` answer for `payload` (a far deadline, an ARN and a trace id as Lambda sends
/// them), and where the request id's 36 bytes sit in it.
pub(crate) fn next_answer(payload: &[u8]) -> (Vec<u8>, usize) {
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

/// How a wrong answer is described: an error report, or the start of the body that was wrong.
fn wrong(is_error: bool, body: &[u8]) -> String {
    format!(
        "{} {}",
        if is_error { "error" } else { "wrong response" },
        String::from_utf8_lossy(&body[..body.len().min(200)])
    )
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn write_request_id(into: &mut [u8], index: u32) {
    let mut n = index;
    for digit in into[REQUEST_ID_DIGITS].iter_mut().rev() {
        *digit = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// The request id of invocation `index`.
pub(crate) fn request_id(index: u32) -> [u8; 36] {
    let mut id = *REQUEST_ID_TEMPLATE;
    write_request_id(&mut id, index);
    id
}

/// The invocation index a request id carries, if it is one this server made.
fn request_index(id: &[u8]) -> Option<u32> {
    let digits = id.strip_prefix(&REQUEST_ID_TEMPLATE[..REQUEST_ID_DIGITS.start])?;
    if digits.len() != REQUEST_ID_DIGITS.len() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// A parsed request; `body` indexes the reader's buffer.
pub(crate) struct Request {
    pub(crate) kind: Kind,
    pub(crate) body: std::ops::Range<usize>,
    /// Bytes of the buffer this request used, body included.
    pub(crate) used: usize,
}

pub(crate) enum Kind {
    Next,
    Response(std::ops::Range<usize>),
    Error(std::ops::Range<usize>),
    InitError,
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
            Kind::Next => {
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
            Kind::Response(ref id) | Kind::Error(ref id) => {
                let is_error = matches!(request.kind, Kind::Error(_));
                events.answered(&reader.buf[id.clone()], body, is_error, arrived);
                stream.write_all(ACCEPTED)
            }
            Kind::InitError => {
                events.init_error(body);
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
pub(crate) struct RequestReader {
    pub(crate) buf: Vec<u8>,
    filled: usize,
}

impl RequestReader {
    pub(crate) fn read_request(&mut self, stream: &mut TcpStream) -> io::Result<Request> {
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

    pub(crate) fn consume(&mut self, used: usize) {
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
    fn a_web_answer_counts_only_with_status_200_and_the_right_description() {
        let expected = Expected::WebDescription {
            source: "rest",
            method: "POST",
        };
        let answer = |status: u16, body: &str| {
            serde_json::to_vec(&serde_json::json!({"statusCode": status, "body": body})).unwrap()
        };
        assert!(expected.matches(&answer(200, r#"{"source":"rest","method":"POST"}"#)));
        assert!(!expected.matches(&answer(500, r#"{"source":"rest","method":"POST"}"#)));
        assert!(!expected.matches(&answer(200, r#"{"source":"http","method":"POST"}"#)));
        assert!(!expected.matches(&answer(200, "not json")));
        assert!(!expected.matches(b"{"));
    }

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
