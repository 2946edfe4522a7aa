//! What the harness's Runtime API (`bench_support::runtime_api::Server`) serves, as
//! [`Events`]:
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

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bench_support::lock;
use bench_support::runtime_api::{Events, next_answer, request_id, request_index};

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

/// How a wrong answer is described: an error report, or the start of the body that was wrong.
fn wrong(is_error: bool, body: &[u8]) -> String {
    format!(
        "{} {}",
        if is_error { "error" } else { "wrong response" },
        String::from_utf8_lossy(&body[..body.len().min(200)])
    )
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
}
