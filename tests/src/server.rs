//! The fake Runtime API: queues invocations, records every answer, and misbehaves on demand.
//! It serves the Extensions and Telemetry APIs beside it, as Lambda does on the same address:
//! registrations get an identifier, `/event/next` is held until an event is pushed, and
//! invocations are handed out only once every registered extension has polled (Init is over).

use std::collections::{HashSet, VecDeque};
use std::io::{self, BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const VERSION_PREFIX: &str = "/2018-06-01/";

/// The Runtime API endpoints, and the Extensions and Telemetry APIs' beside them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Next,
    Response,
    Error,
    InitError,
    /// `POST /2020-01-01/extension/register`
    ExtensionRegister,
    /// `GET /2020-01-01/extension/event/next`
    ExtensionNext,
    /// `POST /2020-01-01/extension/init/error`
    ExtensionInitError,
    /// `POST /2020-01-01/extension/exit/error`
    ExtensionExitError,
    /// `PUT /2022-07-01/telemetry`
    TelemetrySubscribe,
}

impl Endpoint {
    pub const ALL: [Endpoint; 4] = [
        Endpoint::Next,
        Endpoint::Response,
        Endpoint::Error,
        Endpoint::InitError,
    ];

    /// An endpoint of the Extensions or Telemetry API.
    pub fn is_extension(self) -> bool {
        !matches!(
            self,
            Endpoint::Next | Endpoint::Response | Endpoint::Error | Endpoint::InitError
        )
    }
}

/// The body `/extension/register` answers with.
const REGISTER_ANSWER: &[u8] =
    br#"{"functionName":"test-function","functionVersion":"$LATEST","handler":"bootstrap"}"#;

/// One way of misbehaving, applied to the next request for an endpoint.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with this status and a short JSON body (nothing is handed out on `/next`).
    Status(u16),
    /// Answer normally, then reset the connection: the request after this one finds its
    /// keep-alive connection reset ("a reset before the request").
    ResetAfterAnswer,
    /// Read the request line and headers, then reset before reading the body or answering.
    ResetDuring,
    /// Read the whole request (a POST counts as received), then reset without answering.
    ResetAfter,
    /// Answer normally, then close the connection (FIN).
    CloseAfterAnswer,
    /// Write these bytes instead of an answer, then close (nothing is handed out on `/next`).
    Raw(Vec<u8>),
    /// `/next` only: hand out the next invocation, but close after half its body.
    TruncateBody,
    /// Answer normally, one byte at a time with this pause between bytes.
    Trickle(Duration),
    /// A streamed (chunked) POST: read its head and `after_bytes` bytes of its body (0: none),
    /// answer early with `status` (recorded as the post's status), or not at all when `None`
    /// (recorded as 0), then reset the connection without reading the rest, as a server that
    /// is done with a request does.
    StreamCut {
        after_bytes: usize,
        status: Option<u16>,
    },
}

/// An event to hand out on `/next`.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub body: Vec<u8>,
    /// Answer headers; the request id, deadline and ARN are filled in unless present or removed.
    pub headers: Vec<(String, String)>,
    /// How long `/next` waits before answering with this invocation.
    pub hold: Duration,
    /// The status `/next` answers with: 200 hands the invocation out; any other status answers
    /// the poll that takes it with that status and a short JSON body, handing nothing out.
    pub status: u16,
}

impl Invocation {
    /// An invocation with a fresh request id, a deadline 60 s away and a function ARN.
    pub fn new(body: impl Into<Vec<u8>>) -> Invocation {
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let deadline =
            SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + Duration::from_secs(60);
        Invocation {
            body: body.into(),
            headers: vec![
                (
                    "Lambda-Runtime-Aws-Request-Id".into(),
                    format!("req-{n:06}-{}", std::process::id()),
                ),
                (
                    "Lambda-Runtime-Deadline-Ms".into(),
                    deadline.as_millis().to_string(),
                ),
                (
                    "Lambda-Runtime-Invoked-Function-Arn".into(),
                    "arn:aws:lambda:us-east-1:123456789012:function:test".into(),
                ),
            ],
            hold: Duration::ZERO,
            status: 200,
        }
    }

    /// Sets (or replaces) a header.
    pub fn header(mut self, name: &str, value: &str) -> Invocation {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Removes a header, e.g. the request id.
    pub fn without_header(mut self, name: &str) -> Invocation {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }

    pub fn hold(mut self, hold: Duration) -> Invocation {
        self.hold = hold;
        self
    }

    /// A `/next` answer with this status instead of an invocation, given to whichever poll
    /// takes it from the queue: unlike `Fault::Status`, it can answer a poll already waiting.
    pub fn with_status(mut self, status: u16) -> Invocation {
        self.status = status;
        self
    }

    /// The request id header's value ("" when removed).
    pub fn id(&self) -> String {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("Lambda-Runtime-Aws-Request-Id"))
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
}

/// A POST the fake API received.
#[derive(Debug, Clone)]
pub struct Post {
    pub endpoint: Endpoint,
    /// The request id in the path, percent-decoded (empty for init errors).
    pub request_id: String,
    pub path: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// What the fake API answered (0 when it reset the connection instead).
    pub status: u16,
    /// A chunked body's trailers, names in lower case.
    pub trailers: Vec<(String, String)>,
    /// A chunked body: when each chunk arrived, from the end of the request head, and its size.
    pub chunks: Vec<(Duration, usize)>,
    /// The number of the connection it came on (connections are numbered from 1 as accepted).
    pub connection: usize,
    /// How many `/runtime/invocation/next` polls had arrived before this request.
    pub next_polls_before: usize,
}

impl Post {
    /// A streamed function URL answer split at the prelude's eight NUL bytes: (the prelude as
    /// JSON, the body). Asserts the streaming mode and the HTTP integration content type.
    pub fn prelude_and_body(&self) -> (serde_json::Value, Vec<u8>) {
        assert_eq!(
            self.header("Lambda-Runtime-Function-Response-Mode"),
            Some("streaming")
        );
        assert_eq!(
            self.header("Content-Type"),
            Some("application/vnd.awslambda.http-integration-response")
        );
        let split = self
            .body
            .windows(8)
            .position(|w| w == [0u8; 8])
            .expect("eight NUL bytes after the prelude");
        let prelude = serde_json::from_slice(&self.body[..split]).expect("the prelude is JSON");
        (prelude, self.body[split + 8..].to_vec())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON (panics when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body of {} is not JSON ({e}): {:?}",
                self.path,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// `errorType` of an error body.
    pub fn error_type(&self) -> String {
        self.json()["errorType"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// `errorMessage` of an error body.
    pub fn error_message(&self) -> String {
        self.json()["errorMessage"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// A trailer's value (name case-insensitive).
    pub fn trailer(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.trailers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn accepted(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

#[derive(Default)]
struct State {
    queue: VecDeque<Invocation>,
    faults: Vec<(Endpoint, Fault)>,
    posts: Vec<Post>,
    /// Posts dropped by `check_and_forget_posts`.
    forgotten: usize,
    next_requests: usize,
    connections: usize,
    /// Connections closed by a `Fault::CloseAfterAnswer`, once closed.
    closed_after_answer: usize,
    handed_out: HashSet<String>,
    answered: HashSet<String>,
    /// Clones of open connections, by connection number, so `vanish` can close them.
    open: Vec<(usize, TcpStream)>,
    /// The connections whose `/next` poll is waiting for an invocation right now.
    waiting_polls: Vec<usize>,
    /// The most `/next` polls that waited at once.
    max_waiting_polls: usize,
    /// Answers (POSTs to `/response` and `/error`) held back until enough wait together.
    gate: Option<Gate>,
    /// Every request to the Extensions and Telemetry APIs (GETs and PUTs too), in order.
    extension_requests: Vec<Post>,
    /// Events for `/extension/event/next`, handed out in order.
    extension_events: VecDeque<Vec<u8>>,
    /// The identifiers handed out by `/register`, and those that polled `/event/next` since.
    registered: Vec<String>,
    polled: HashSet<String>,
    /// `/event/next` polls waiting for an event right now.
    waiting_extension_polls: usize,
    /// Answer every Extensions and Telemetry API request with 404, as a local emulator does.
    extensions_absent: bool,
}

/// Holds the next `size` answers back until all of them have arrived, so the test knows that
/// many invocations were in flight at once; lets them go anyway at `deadline`.
struct Gate {
    size: usize,
    /// How many answers arrived at the gate before it filled or its deadline passed.
    arrived: usize,
    deadline: Instant,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    stop: AtomicBool,
    /// When set, the listener is closed until this instant.
    away_until: Mutex<Option<Instant>>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A fake Runtime API on 127.0.0.1, on an ephemeral port; stops when dropped.
pub struct FakeApi {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Default for FakeApi {
    fn default() -> Self {
        FakeApi::start()
    }
}

impl FakeApi {
    pub fn start() -> FakeApi {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the fake Runtime API");
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            stop: AtomicBool::new(false),
            away_until: Mutex::new(None),
        });
        let accept_shared = Arc::clone(&shared);
        thread::spawn(move || accept_loop(listener, addr, accept_shared));
        FakeApi { addr, shared }
    }

    /// `host:port`, as Lambda sets `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// Queues an invocation; returns its request id.
    pub fn push(&self, invocation: Invocation) -> String {
        let id = invocation.id();
        self.shared.lock().queue.push_back(invocation);
        self.shared.changed.notify_all();
        id
    }

    /// Queues events with fresh ids; returns the ids in order.
    pub fn push_events<B: Into<Vec<u8>>>(
        &self,
        events: impl IntoIterator<Item = B>,
    ) -> Vec<String> {
        events
            .into_iter()
            .map(|e| self.push(Invocation::new(e)))
            .collect()
    }

    /// Makes the next request for `endpoint` misbehave (faults for one endpoint apply in order).
    pub fn inject(&self, endpoint: Endpoint, fault: Fault) {
        self.shared.lock().faults.push((endpoint, fault));
    }

    /// How many POSTs were received (including ones already forgotten).
    pub fn posts_len(&self) -> usize {
        let state = self.shared.lock();
        state.forgotten + state.posts.len()
    }

    /// Waits until `n` POSTs in all were received; false when `limit` passed first.
    pub fn wait_posts_total(&self, n: usize, limit: Duration) -> bool {
        let state = self.wait_until(limit, |state| state.forgotten + state.posts.len() >= n);
        state.forgotten + state.posts.len() >= n
    }

    /// Waits until `n` connections have been closed by `Fault::CloseAfterAnswer` (the close itself
    /// done, not only the answer written), or `limit` passes; true when they were.
    pub fn wait_closed_after_answer(&self, n: usize, limit: Duration) -> bool {
        self.wait_until(limit, |state| state.closed_after_answer >= n)
            .closed_after_answer
            >= n
    }

    /// Waits until `done` holds for the state, or `limit` passes; returns the state locked.
    fn wait_until(&self, limit: Duration, done: impl Fn(&State) -> bool) -> MutexGuard<'_, State> {
        let deadline = Instant::now() + limit;
        let mut state = self.shared.lock();
        loop {
            let now = Instant::now();
            if done(&state) || now >= deadline {
                return state;
            }
            state = self
                .shared
                .changed
                .wait_timeout(state, deadline - now)
                .unwrap()
                .0;
        }
    }

    /// Hands each recorded post's (ordinal, body) to `check`, then drops the posts to keep
    /// memory flat in long runs. Ordinals count from the first post ever received.
    pub fn check_and_forget_posts(&self, mut check: impl FnMut(usize, &[u8])) {
        let mut state = self.shared.lock();
        let base = state.forgotten;
        for (i, post) in state.posts.iter().enumerate() {
            check(base + i, &post.body);
        }
        state.forgotten += state.posts.len();
        state.posts.clear();
    }

    /// How many distinct request ids got an accepted answer.
    pub fn answered_total(&self) -> usize {
        self.shared.lock().answered.len()
    }

    /// Faults injected but not yet triggered.
    pub fn pending_faults(&self) -> usize {
        self.shared.lock().faults.len()
    }

    /// Every request to the Extensions and Telemetry APIs so far (`/event/next` recorded when
    /// it arrives, before it is answered).
    pub fn extension_requests(&self) -> Vec<Post> {
        self.shared.lock().extension_requests.clone()
    }

    /// Waits until `pred` holds for the Extensions and Telemetry API requests, or `limit`
    /// passes; returns the requests.
    pub fn wait_extension_requests(
        &self,
        limit: Duration,
        pred: impl Fn(&[Post]) -> bool,
    ) -> Vec<Post> {
        self.wait_until(limit, |state| pred(&state.extension_requests))
            .extension_requests
            .clone()
    }

    /// Queues an event (JSON) for `/extension/event/next`.
    pub fn push_extension_event(&self, event: impl Into<Vec<u8>>) {
        self.shared.lock().extension_events.push_back(event.into());
        self.shared.changed.notify_all();
    }

    /// Waits until `n` `/extension/event/next` polls wait for an event at once; false when
    /// `limit` passed first.
    pub fn wait_extension_polls(&self, n: usize, limit: Duration) -> bool {
        self.wait_until(limit, |state| state.waiting_extension_polls >= n)
            .waiting_extension_polls
            >= n
    }

    /// From now on, every Extensions and Telemetry API request is answered 404, as by a local
    /// emulator that has no such API.
    pub fn without_extensions_api(&self) {
        self.shared.lock().extensions_absent = true;
    }

    /// Every POST received so far.
    pub fn posts(&self) -> Vec<Post> {
        self.shared.lock().posts.clone()
    }

    /// How many `GET /next` requests arrived.
    pub fn next_requests(&self) -> usize {
        self.shared.lock().next_requests
    }

    /// How many TCP connections were accepted.
    pub fn connections(&self) -> usize {
        self.shared.lock().connections
    }

    /// Waits until `n` `/next` polls wait for an invocation at the same time, or `limit` passes;
    /// returns the numbers of the connections the polls waiting then came on.
    pub fn wait_polls(&self, n: usize, limit: Duration) -> Vec<usize> {
        self.wait_until(limit, |state| state.waiting_polls.len() >= n)
            .waiting_polls
            .clone()
    }

    /// The most `/next` polls that waited for an invocation at the same time so far.
    pub fn max_waiting_polls(&self) -> usize {
        self.shared.lock().max_waiting_polls
    }

    /// Holds the next `n` answers (POSTs to `/response` or `/error`) back, unanswered, until all
    /// `n` have arrived, so that many invocations are in flight together; after `limit` the
    /// ones held go on anyway. Faults apply to them as usual once they go on.
    pub fn hold_answers(&self, n: usize, limit: Duration) {
        self.shared.lock().gate = Some(Gate {
            size: n,
            arrived: 0,
            deadline: Instant::now() + limit,
        });
    }

    /// How many answers the gate set by `hold_answers` held at once (its `n` when it filled).
    pub fn answers_held_together(&self) -> usize {
        self.shared.lock().gate.as_ref().map_or(0, |g| g.arrived)
    }

    /// Waits until `pred` holds for the recorded posts, or `limit` passes; returns the posts.
    pub fn wait_posts(&self, limit: Duration, pred: impl Fn(&[Post]) -> bool) -> Vec<Post> {
        self.wait_until(limit, |state| pred(&state.posts))
            .posts
            .clone()
    }

    /// Waits until every id in `ids` has an accepted answer; returns the accepted answers in the
    /// order of `ids` (panics with the posts seen when one is missing).
    pub fn wait_answers(&self, ids: &[String], limit: Duration) -> Vec<Post> {
        let posts = self.wait_posts(limit, |posts| {
            ids.iter()
                .all(|id| posts.iter().any(|p| p.accepted() && &p.request_id == id))
        });
        ids.iter()
            .map(|id| {
                posts
                    .iter()
                    .find(|p| p.accepted() && &p.request_id == id)
                    .unwrap_or_else(|| panic!("no accepted answer for {id}; posts: {posts:#?}"))
                    .clone()
            })
            .collect()
    }

    /// Accepted answers (responses and errors) per request id: every id handed out must appear
    /// exactly once. Returns the ids handed out and the ids with other than one accepted answer.
    pub fn answer_counts(&self) -> (Vec<String>, Vec<(String, usize)>) {
        let state = self.shared.lock();
        let mut handed: Vec<String> = state.handed_out.iter().cloned().collect();
        handed.sort();
        let wrong = handed
            .iter()
            .map(|id| {
                let n = state
                    .posts
                    .iter()
                    .filter(|p| {
                        p.accepted() && p.endpoint != Endpoint::InitError && &p.request_id == id
                    })
                    .count();
                (id.clone(), n)
            })
            .filter(|(_, n)| *n != 1)
            .collect();
        (handed, wrong)
    }

    /// Closes the listener and every open connection for `away`, then listens again on the
    /// same port.
    pub fn vanish(&self, away: Duration) {
        *self.shared.away_until.lock().unwrap() = Some(Instant::now() + away);
        for (_, stream) in self.shared.lock().open.drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
        // Wake the accept loop so it notices.
        let _ = TcpStream::connect(self.addr);
    }
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.changed.notify_all();
        for (_, stream) in self.shared.lock().open.drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
        let _ = TcpStream::connect(self.addr);
    }
}

fn accept_loop(mut listener: TcpListener, addr: SocketAddr, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept() else {
            continue;
        };
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let away = shared.away_until.lock().unwrap().take();
        if let Some(until) = away {
            drop(stream);
            drop(listener);
            thread::sleep(until.saturating_duration_since(Instant::now()));
            listener = loop {
                match TcpListener::bind(addr) {
                    Ok(l) => break l,
                    Err(_) => thread::sleep(Duration::from_millis(20)),
                }
            };
            continue;
        }
        let _ = stream.set_nodelay(true);
        let number = {
            let mut state = shared.lock();
            state.connections += 1;
            if let Ok(clone) = stream.try_clone() {
                let number = state.connections;
                state.open.push((number, clone));
            }
            state.connections
        };
        let conn_shared = Arc::clone(&shared);
        thread::spawn(move || {
            let _ = serve_connection(stream, &conn_shared, number);
            // The last descriptor of the socket closes here: a FIN, or a RST when `reset` set
            // a zero linger.
            conn_shared.lock().open.retain(|(n, _)| *n != number);
        });
    }
}

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
}

fn serve_connection(stream: TcpStream, shared: &Shared, connection: usize) -> io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    loop {
        let Some(request) = read_head(&mut reader)? else {
            return Ok(());
        };
        let (endpoint, request_id) = classify(&request.path);
        let fault = endpoint.and_then(|ep| {
            let mut state = shared.lock();
            let i = state.faults.iter().position(|(e, _)| *e == ep)?;
            Some(state.faults.remove(i).1)
        });
        if matches!(fault, Some(Fault::ResetDuring)) {
            return reset(writer);
        }
        let record = |endpoint, body, status| {
            record_post(
                shared,
                connection,
                endpoint,
                &request_id,
                &request,
                body,
                status,
            )
        };
        if let (
            Some(Fault::StreamCut {
                after_bytes,
                status,
            }),
            Some(endpoint),
        ) = (&fault, endpoint)
        {
            let body = read_chunks(&mut reader, *after_bytes)?;
            let status = status.unwrap_or(0);
            record(endpoint, body, status);
            if status != 0 {
                write_fake_status(&mut writer, status)?;
                // Time for the answer to arrive before the reset.
                thread::sleep(Duration::from_millis(50));
            }
            return reset(writer);
        }
        let body = read_body(&mut reader, &request)?;
        let Some(endpoint) = endpoint else {
            write_answer(
                &mut writer,
                404,
                b"{\"errorMessage\":\"no such endpoint\"}",
                None,
            )?;
            continue;
        };
        if endpoint == Endpoint::Next {
            shared.lock().next_requests += 1;
            shared.changed.notify_all();
        } else if endpoint != Endpoint::InitError && !endpoint.is_extension() {
            wait_at_gate(shared);
        }
        match fault {
            Some(Fault::Status(status)) => {
                if endpoint != Endpoint::Next {
                    record(endpoint, body, status);
                }
                write_fake_status(&mut writer, status)?;
                continue;
            }
            Some(Fault::Raw(bytes)) => {
                writer.write_all(&bytes)?;
                writer.flush()?;
                return close(writer);
            }
            Some(Fault::ResetAfter) => {
                if endpoint != Endpoint::Next {
                    record(endpoint, body, 0);
                }
                return reset(writer);
            }
            _ => {}
        }
        let trickle = match &fault {
            Some(Fault::Trickle(pause)) => Some(*pause),
            _ => None,
        };
        if endpoint.is_extension() {
            if !serve_extension(&mut writer, shared, connection, endpoint, &request, body)? {
                return close(writer);
            }
        } else if endpoint == Endpoint::Next {
            let Some(invocation) = wait_invocation(shared, connection) else {
                return close(writer);
            };
            if !invocation.hold.is_zero() {
                thread::sleep(invocation.hold);
            }
            if invocation.status != 200 {
                let status = invocation.status;
                write_fake_status(&mut writer, status)?;
                continue;
            }
            let truncate = matches!(fault, Some(Fault::TruncateBody));
            let body = if truncate {
                &invocation.body[..invocation.body.len() / 2]
            } else {
                &invocation.body[..]
            };
            let headers: Vec<(&str, &str)> = invocation
                .headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            let declared = invocation.body.len();
            if write_http(&mut writer, 200, &headers, body, declared, trickle).is_err() {
                // The runtime's connection died before it got the event: it was not handed out.
                shared.lock().queue.push_front(invocation);
                return Ok(());
            }
            let id = invocation.id();
            if !id.is_empty() {
                shared.lock().handed_out.insert(id);
            }
            if truncate {
                return close(writer);
            }
        } else {
            let status = {
                let mut state = shared.lock();
                let duplicate =
                    endpoint != Endpoint::InitError && !state.answered.insert(request_id.clone());
                if duplicate { 400 } else { 202 }
            };
            record(endpoint, body, status);
            let answer: &[u8] = if status == 202 {
                b"{\"status\":\"OK\"}"
            } else {
                b"{\"errorMessage\":\"already answered\",\"errorType\":\"InvalidStateTransition\"}"
            };
            write_answer(&mut writer, status, answer, trickle)?;
        }
        match fault {
            Some(Fault::ResetAfterAnswer) => return reset(writer),
            Some(Fault::CloseAfterAnswer) => {
                close(writer)?;
                shared.lock().closed_after_answer += 1;
                shared.changed.notify_all();
                return Ok(());
            }
            _ => {}
        }
    }
}

/// Takes the next queued invocation, waiting for one; counts the poll as waiting meanwhile.
fn wait_invocation(shared: &Shared, connection: usize) -> Option<Invocation> {
    let mut state = shared.lock();
    let mut waiting = false;
    loop {
        // Init is over only when every registered extension has polled `/event/next`.
        let init_done = state.registered.iter().all(|id| state.polled.contains(id));
        let taken = if shared.stop.load(Ordering::SeqCst) {
            Some(None)
        } else if init_done {
            state.queue.pop_front().map(Some)
        } else {
            None
        };
        if let Some(taken) = taken {
            if waiting {
                state.waiting_polls.retain(|&c| c != connection);
                shared.changed.notify_all();
            }
            return taken;
        }
        if !waiting {
            waiting = true;
            state.waiting_polls.push(connection);
            state.max_waiting_polls = state.max_waiting_polls.max(state.waiting_polls.len());
            shared.changed.notify_all();
        }
        state = shared
            .changed
            .wait_timeout(state, Duration::from_millis(100))
            .unwrap()
            .0;
    }
}

/// Holds an answer at the gate set by `FakeApi::hold_answers`, if one is open, until the gate
/// fills or its deadline passes.
fn wait_at_gate(shared: &Shared) {
    let mut state = shared.lock();
    let Some(gate) = state.gate.as_mut() else {
        return;
    };
    if gate.arrived >= gate.size || Instant::now() >= gate.deadline {
        return;
    }
    gate.arrived += 1;
    shared.changed.notify_all();
    loop {
        let Some(gate) = state.gate.as_ref() else {
            return;
        };
        let now = Instant::now();
        if gate.arrived >= gate.size || now >= gate.deadline || shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let pause = (gate.deadline - now).min(Duration::from_millis(100));
        state = shared.changed.wait_timeout(state, pause).unwrap().0;
    }
}

/// Answers with `status` and a JSON error body, as an injected `Fault::Status` asks.
fn write_fake_status(writer: &mut TcpStream, status: u16) -> io::Result<()> {
    let body = format!("{{\"errorMessage\":\"fake status {status}\",\"errorType\":\"Fake\"}}");
    write_answer(writer, status, body.as_bytes(), None)
}

fn record_post(
    shared: &Shared,
    connection: usize,
    endpoint: Endpoint,
    request_id: &str,
    request: &Request,
    body: Body,
    status: u16,
) {
    let mut state = shared.lock();
    let post = Post {
        endpoint,
        request_id: request_id.to_owned(),
        path: request.path.clone(),
        headers: request.headers.clone(),
        body: body.bytes,
        status,
        trailers: body.trailers,
        chunks: body.chunks,
        connection,
        next_polls_before: state.next_requests,
    };
    if endpoint.is_extension() {
        state.extension_requests.push(post);
    } else {
        state.posts.push(post);
    }
    drop(state);
    shared.changed.notify_all();
}

/// Answers a request to the Extensions or Telemetry API, recording it; false when the server
/// is stopping and the connection should close.
fn serve_extension(
    writer: &mut TcpStream,
    shared: &Shared,
    connection: usize,
    endpoint: Endpoint,
    request: &Request,
    body: Body,
) -> io::Result<bool> {
    let identifier = request
        .headers
        .iter()
        .find(|(n, _)| n == "lambda-extension-identifier")
        .map(|(_, v)| v.clone());
    let (absent, known) = {
        let state = shared.lock();
        let known = identifier
            .as_ref()
            .is_some_and(|id| state.registered.contains(id));
        (state.extensions_absent, known)
    };
    let record = |status| record_post(shared, connection, endpoint, "", request, body, status);
    if absent {
        record(404);
        write_answer(writer, 404, b"404 page not found", None)?;
        return Ok(true);
    }
    if endpoint != Endpoint::ExtensionRegister && !known {
        record(403);
        write_answer(
            writer,
            403,
            b"{\"errorMessage\":\"missing or unknown Lambda-Extension-Identifier\",\"errorType\":\"Extension.InvalidExtensionIdentifier\"}",
            None,
        )?;
        return Ok(true);
    }
    match endpoint {
        Endpoint::ExtensionRegister => {
            let identifier = {
                let mut state = shared.lock();
                let id = format!(
                    "ext-{:04}-{}",
                    state.registered.len() + 1,
                    std::process::id()
                );
                state.registered.push(id.clone());
                id
            };
            record(200);
            let headers = [("Lambda-Extension-Identifier", identifier.as_str())];
            let answer = REGISTER_ANSWER;
            write_http(writer, 200, &headers, answer, answer.len(), None)?;
        }
        Endpoint::ExtensionNext => {
            if let Some(id) = identifier {
                shared.lock().polled.insert(id);
            }
            record(200);
            let Some(event) = wait_extension_event(shared) else {
                return Ok(false);
            };
            write_answer(writer, 200, &event, None)?;
        }
        Endpoint::ExtensionInitError | Endpoint::ExtensionExitError => {
            record(202);
            write_answer(writer, 202, b"{\"status\":\"OK\"}", None)?;
        }
        _ => {
            record(200);
            write_answer(writer, 200, b"\"OK\"", None)?;
        }
    }
    Ok(true)
}

/// Takes the next queued extension event, waiting for one; `None` when the server stops.
fn wait_extension_event(shared: &Shared) -> Option<Vec<u8>> {
    let mut state = shared.lock();
    state.waiting_extension_polls += 1;
    shared.changed.notify_all();
    let event = loop {
        if shared.stop.load(Ordering::SeqCst) {
            break None;
        }
        if let Some(event) = state.extension_events.pop_front() {
            break Some(event);
        }
        state = shared
            .changed
            .wait_timeout(state, Duration::from_millis(100))
            .unwrap()
            .0;
    };
    state.waiting_extension_polls -= 1;
    shared.changed.notify_all();
    event
}

/// The endpoint a path names (any prefix before `/2018-06-01/` is allowed) and its request id.
/// A path with a `.` or `..` segment names none: a server resolves those before routing, so the
/// request would reach another path.
fn classify(path: &str) -> (Option<Endpoint>, String) {
    if path
        .split('/')
        .any(|segment| segment == "." || segment == "..")
    {
        return (None, String::new());
    }
    // The Extensions and Telemetry APIs, under any prefix.
    const EXTENSION_PATHS: [(&str, Endpoint); 5] = [
        (
            "/2020-01-01/extension/register",
            Endpoint::ExtensionRegister,
        ),
        ("/2020-01-01/extension/event/next", Endpoint::ExtensionNext),
        (
            "/2020-01-01/extension/init/error",
            Endpoint::ExtensionInitError,
        ),
        (
            "/2020-01-01/extension/exit/error",
            Endpoint::ExtensionExitError,
        ),
        ("/2022-07-01/telemetry", Endpoint::TelemetrySubscribe),
    ];
    let trimmed = path.trim_end_matches('/');
    if let Some((_, endpoint)) = EXTENSION_PATHS.iter().find(|(p, _)| trimmed.ends_with(p)) {
        return (Some(*endpoint), String::new());
    }
    let Some(at) = path.find(VERSION_PREFIX) else {
        return (None, String::new());
    };
    let rest = &path[at + VERSION_PREFIX.len()..];
    if rest == "runtime/invocation/next" {
        return (Some(Endpoint::Next), String::new());
    }
    if rest == "runtime/init/error" {
        return (Some(Endpoint::InitError), String::new());
    }
    if let Some(tail) = rest.strip_prefix("runtime/invocation/") {
        if let Some(id) = tail.strip_suffix("/response") {
            return (Some(Endpoint::Response), percent_decode(id));
        }
        if let Some(id) = tail.strip_suffix("/error") {
            return (Some(Endpoint::Error), percent_decode(id));
        }
    }
    (None, String::new())
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        if let (b'%', Some(Ok(b))) = (bytes[i], hex.map(|h| u8::from_str_radix(h, 16))) {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads a request line and headers; `None` at a clean end of the connection.
fn read_head(reader: &mut impl BufRead) -> io::Result<Option<Request>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        if let Some((name, value)) = trimmed.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    Ok(Some(Request {
        method,
        path,
        headers,
    }))
}

/// A request body, with a chunked body's trailers and chunk arrival times.
#[derive(Default)]
struct Body {
    bytes: Vec<u8>,
    trailers: Vec<(String, String)>,
    chunks: Vec<(Duration, usize)>,
}

fn read_body(reader: &mut impl BufRead, request: &Request) -> io::Result<Body> {
    let started = Instant::now();
    let header = |name: &str| {
        request
            .headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let mut body = Body::default();
    if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        let mut line = String::new();
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
            if size == 0 {
                // Trailers, up to the empty line.
                loop {
                    line.clear();
                    if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
                        return Ok(body);
                    }
                    if let Some((name, value)) = line.trim_end().split_once(':') {
                        body.trailers
                            .push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
                    }
                }
            }
            let start = body.bytes.len();
            body.bytes.resize(start + size, 0);
            reader.read_exact(&mut body.bytes[start..])?;
            body.chunks.push((started.elapsed(), size));
            line.clear();
            reader.read_line(&mut line)?;
            if line != "\r\n" {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "a chunk not followed by CRLF",
                ));
            }
        }
    }
    let length: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let _ = &request.method;
    body.bytes.resize(length, 0);
    reader.read_exact(&mut body.bytes)?;
    Ok(body)
}

/// Reads chunks of a chunked body until at least `want` bytes of it arrived (no more than that
/// is asked of the connection beyond the chunk that passes it).
fn read_chunks(reader: &mut impl BufRead, want: usize) -> io::Result<Body> {
    let mut body = Body::default();
    let mut line = String::new();
    while body.bytes.len() < want {
        line.clear();
        reader.read_line(&mut line)?;
        let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
        if size == 0 {
            break;
        }
        let start = body.bytes.len();
        body.bytes.resize(start + size, 0);
        reader.read_exact(&mut body.bytes[start..])?;
        body.chunks.push((Duration::ZERO, size));
        line.clear();
        reader.read_line(&mut line)?;
    }
    Ok(body)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        410 => "Gone",
        413 => "Payload Too Large",
        500 => "Internal Server Error",
        _ => "Status",
    }
}

/// Writes a status line, headers and `body`; `declared_length` is the Content-Length sent
/// (differing from the body's on purpose when an answer is to be cut off).
fn write_http(
    writer: &mut TcpStream,
    status: u16,
    headers: &[(&str, &str)],
    body: &[u8],
    declared_length: usize,
    trickle: Option<Duration>,
) -> io::Result<()> {
    let mut out = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {declared_length}\r\n",
        reason(status)
    );
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    send(writer, &bytes, trickle)
}

/// A complete answer with no extra headers.
fn write_answer(
    writer: &mut TcpStream,
    status: u16,
    body: &[u8],
    trickle: Option<Duration>,
) -> io::Result<()> {
    write_http(writer, status, &[], body, body.len(), trickle)
}

fn send(writer: &mut TcpStream, bytes: &[u8], trickle: Option<Duration>) -> io::Result<()> {
    match trickle {
        None => writer.write_all(bytes)?,
        Some(pause) => {
            for b in bytes {
                writer.write_all(std::slice::from_ref(b))?;
                writer.flush()?;
                thread::sleep(pause);
            }
        }
    }
    writer.flush()
}

/// Closes with RST instead of FIN.
fn reset(stream: TcpStream) -> io::Result<()> {
    socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO))?;
    drop(stream);
    Ok(())
}

fn close(stream: TcpStream) -> io::Result<()> {
    let _ = stream.shutdown(Shutdown::Both);
    Ok(())
}
