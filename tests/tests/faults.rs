//! The fault table: the real bootstrap against a Runtime API that misbehaves in one way per
//! test. Each row of the README's fault table is one test here. The rule for every row: the
//! runtime retries (transient faults), or reports the fault for the request id and goes on, or
//! exits 1 with a log line that says why. It never hangs, never spins, and answers every
//! invocation it received exactly once.

use std::time::{Duration, Instant};

use lambda_blocking_rt_tests::{Endpoint, FakeApi, Fault, Invocation, PATIENCE, launch};

/// What the row expects.
#[derive(Clone, Copy)]
enum Expect {
    /// Both events are answered exactly once, as the handler answers them; serving goes on.
    Served,
    /// The first event is answered with this error type instead; the second is served.
    FirstFailsWith(&'static str),
    /// The API refused the first answer (logged with this text); the second is served.
    FirstRefused(&'static str),
    /// The process exits 1 within seconds, after at most one `/next`, logging this text.
    Exits(&'static str),
    /// (Init rows.) The init error is accepted exactly once and the process exits 1.
    InitReported,
}

/// Runs one row: `fault` is injected on `endpoint`, two events are queued (none for init rows,
/// whose init fails: `launch_failing_init`), and the outcome is checked.
fn row(handler: &str, setup: impl FnOnce(&FakeApi), expect: Expect) {
    let api = FakeApi::start();
    setup(&api);
    let init_row = matches!(expect, Expect::InitReported);
    let ids = if init_row {
        Vec::new()
    } else {
        api.push_events([&br#"{"message":"first"}"#[..], br#"{"message":"second"}"#])
    };
    let started = Instant::now();
    let mut bootstrap = if init_row {
        launch_failing_init(&api)
    } else {
        launch(&api, handler, &[])
    };
    match expect {
        Expect::Served => {
            let answers = api.wait_answers(&ids, PATIENCE);
            for (answer, message) in answers.iter().zip(["first", "second"]) {
                check_served(handler, answer, message);
            }
            assert_each_answered_once(&api);
            assert!(bootstrap.is_running(), "stderr: {}", bootstrap.stderr());
        }
        Expect::FirstFailsWith(error_type) => {
            let answers = api.wait_answers(&ids, PATIENCE);
            assert_eq!(answers[0].endpoint, Endpoint::Error);
            assert_eq!(answers[0].error_type(), error_type);
            check_served(handler, &answers[1], "second");
            assert_each_answered_once(&api);
            assert!(bootstrap.is_running());
        }
        Expect::FirstRefused(logged) => {
            let answers = api.wait_answers(&ids[1..], PATIENCE);
            check_served(handler, &answers[0], "second");
            let first: Vec<_> = api
                .posts()
                .into_iter()
                .filter(|p| p.request_id == ids[0])
                .collect();
            assert_eq!(
                first.len(),
                1,
                "a refused answer is not sent again: {first:?}"
            );
            assert!(!first[0].accepted());
            let (found, stderr) = bootstrap.wait_stderr(logged, PATIENCE);
            assert!(found, "{stderr}");
            assert!(bootstrap.is_running());
        }
        Expect::Exits(logged) => {
            let status = bootstrap.wait_exit(PATIENCE).expect("the runtime exits");
            assert_eq!(status.code(), Some(1));
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "exited after {:?}",
                started.elapsed()
            );
            assert!(
                api.next_requests() <= 1,
                "no spinning: {} polls",
                api.next_requests()
            );
            bootstrap.assert_stderr_contains(logged);
        }
        Expect::InitReported => {
            let status = bootstrap.wait_exit(PATIENCE).expect("the runtime exits");
            assert_eq!(status.code(), Some(1));
            let accepted: Vec<_> = api
                .posts()
                .into_iter()
                .filter(|p| p.endpoint == Endpoint::InitError && p.accepted())
                .collect();
            assert_eq!(accepted.len(), 1, "{:?}", api.posts());
            assert_eq!(accepted[0].error_type(), "DemoInitError");
            assert_eq!(api.next_requests(), 0);
        }
    }
    assert_eq!(
        api.pending_faults(),
        0,
        "the injected fault never triggered"
    );
}

/// The `error` function with `DEMO_INIT_ERROR` set: its init fails, in the all-handlers
/// bootstrap and in its own per-function binary alike.
fn launch_failing_init(api: &FakeApi) -> lambda_blocking_rt_tests::Bootstrap {
    launch(
        api,
        "error",
        &[("DEMO_INIT_ERROR", "the fault rows' init failure")],
    )
}

fn check_served(handler: &str, answer: &lambda_blocking_rt_tests::Post, message: &str) {
    match handler {
        "echo" => {
            assert_eq!(answer.endpoint, Endpoint::Response);
            assert_eq!(answer.json()["message"], message);
        }
        "error" => {
            assert_eq!(answer.endpoint, Endpoint::Error);
            assert_eq!(answer.error_type(), "DemoError");
            assert_eq!(answer.error_message(), message);
        }
        other => panic!("no check for {other}"),
    }
}

fn assert_each_answered_once(api: &FakeApi) {
    let (_, wrong) = api.answer_counts();
    assert!(
        wrong.is_empty(),
        "ids without exactly one accepted answer: {wrong:?}; posts: {:#?}",
        api.posts()
    );
}

macro_rules! rows {
    ($($name:ident: $handler:literal, $endpoint:ident, $fault:expr => $expect:expr;)*) => {$(
        #[test]
        fn $name() {
            row($handler, |api| api.inject(Endpoint::$endpoint, $fault), $expect);
        }
    )*};
}

const BAD_STATUS_LINE: &[u8] = b"HTTP/1.1 two-hundred OK\r\nContent-Length: 0\r\n\r\n";
const GARBAGE_HEADERS: &[u8] = b"HTTP/1.1 200 OK\r\n\x01\x02 not a header \xff\r\n:::\r\n\r\n";

rows! {
    // Connection resets before (the idle keep-alive connection is reset), during (after the
    // request head, before its body) and after (request read, no answer) each kind of request.
    reset_before_next_is_retried: "echo", Response, Fault::ResetAfterAnswer => Expect::Served;
    reset_during_next_is_retried: "echo", Next, Fault::ResetDuring => Expect::Served;
    reset_after_next_is_retried: "echo", Next, Fault::ResetAfter => Expect::Served;
    reset_before_response_is_retried: "echo", Next, Fault::ResetAfterAnswer => Expect::Served;
    reset_during_response_is_retried: "echo", Response, Fault::ResetDuring => Expect::Served;
    reset_after_response_is_retried_and_accepted_once: "echo", Response, Fault::ResetAfter => Expect::Served;
    reset_before_error_is_retried: "error", Next, Fault::ResetAfterAnswer => Expect::Served;
    reset_during_error_is_retried: "error", Error, Fault::ResetDuring => Expect::Served;
    reset_after_error_is_retried_and_accepted_once: "error", Error, Fault::ResetAfter => Expect::Served;
    reset_during_init_error_is_retried: "", InitError, Fault::ResetDuring => Expect::InitReported;
    reset_after_init_error_is_retried: "", InitError, Fault::ResetAfter => Expect::InitReported;

    // A /next answer cut off in the middle of its body.
    next_body_cut_off_is_an_invalid_event_for_that_request: "echo", Next, Fault::TruncateBody
        => Expect::FirstFailsWith("Runtime.InvalidEvent");

    // Malformed HTTP.
    bad_status_line_on_next_is_retried: "echo", Next, Fault::Raw(BAD_STATUS_LINE.to_vec()) => Expect::Served;
    garbage_headers_on_next_are_retried: "echo", Next, Fault::Raw(GARBAGE_HEADERS.to_vec()) => Expect::Served;
    bad_status_line_on_response_is_retried: "echo", Response, Fault::Raw(BAD_STATUS_LINE.to_vec()) => Expect::Served;
    garbage_headers_on_error_are_retried: "error", Error, Fault::Raw(GARBAGE_HEADERS.to_vec()) => Expect::Served;

    // Answers trickled out byte by byte.
    trickled_next_answer_is_read_whole: "echo", Next, Fault::Trickle(Duration::from_millis(1)) => Expect::Served;
    trickled_response_answer_is_read_whole: "echo", Response, Fault::Trickle(Duration::from_millis(1)) => Expect::Served;
    trickled_error_answer_is_read_whole: "error", Error, Fault::Trickle(Duration::from_millis(1)) => Expect::Served;

    // Each status on each endpoint.
    next_400_exits: "echo", Next, Fault::Status(400) => Expect::Exits("HTTP 400");
    next_403_exits: "echo", Next, Fault::Status(403) => Expect::Exits("HTTP 403");
    next_404_exits: "echo", Next, Fault::Status(404) => Expect::Exits("HTTP 404");
    next_410_exits: "echo", Next, Fault::Status(410) => Expect::Exits("HTTP 410");
    next_413_exits: "echo", Next, Fault::Status(413) => Expect::Exits("HTTP 413");
    next_500_exits: "echo", Next, Fault::Status(500) => Expect::Exits("HTTP 500");
    response_400_is_logged_and_serving_goes_on: "echo", Response, Fault::Status(400) => Expect::FirstRefused("refused with HTTP 400");
    response_403_is_logged_and_serving_goes_on: "echo", Response, Fault::Status(403) => Expect::FirstRefused("refused with HTTP 403");
    response_404_is_logged_and_serving_goes_on: "echo", Response, Fault::Status(404) => Expect::FirstRefused("refused with HTTP 404");
    response_410_late_answer_is_logged_and_serving_goes_on: "echo", Response, Fault::Status(410) => Expect::FirstRefused("already timed out: its response was refused (HTTP 410 Gone)");
    response_413_becomes_a_size_error: "echo", Response, Fault::Status(413) => Expect::FirstFailsWith("Function.ResponseSizeTooLarge");
    response_500_exits: "echo", Response, Fault::Status(500) => Expect::Exits("HTTP 500");
    error_400_is_logged_and_serving_goes_on: "error", Error, Fault::Status(400) => Expect::FirstRefused("Refused(400)");
    error_403_is_logged_and_serving_goes_on: "error", Error, Fault::Status(403) => Expect::FirstRefused("Refused(403)");
    error_404_is_logged_and_serving_goes_on: "error", Error, Fault::Status(404) => Expect::FirstRefused("Refused(404)");
    error_410_late_answer_is_logged_and_serving_goes_on: "error", Error, Fault::Status(410) => Expect::FirstRefused("already timed out: its error report was refused (HTTP 410 Gone)");
    error_413_is_sent_again_shortened: "error", Error, Fault::Status(413) => Expect::Served;
    error_500_exits: "error", Error, Fault::Status(500) => Expect::Exits("HTTP 500");
}

/// Init-error statuses: the init has failed either way, so the runtime exits 1 after one post
/// (two for 413: the report is sent again with a shortened message).
#[test]
fn init_error_statuses_end_the_process_after_at_most_one_resend() {
    for status in [400, 403, 404, 410, 413, 500] {
        let api = FakeApi::start();
        api.inject(Endpoint::InitError, Fault::Status(status));
        let mut bootstrap = launch_failing_init(&api);
        let exit = bootstrap.wait_exit(PATIENCE).expect("exits");
        assert_eq!(exit.code(), Some(1), "status {status}");
        let posts = api.posts();
        let expected = if status == 413 { 2 } else { 1 };
        assert_eq!(posts.len(), expected, "status {status}: {posts:?}");
        bootstrap.assert_stderr_contains("init failed");
    }
}

#[test]
fn reset_before_init_error_server_not_there_yet_is_retried() {
    let api = FakeApi::start();
    api.vanish(Duration::from_millis(800));
    let mut bootstrap = launch_failing_init(&api);
    let exit = bootstrap.wait_exit(PATIENCE).expect("exits");
    assert_eq!(exit.code(), Some(1));
    let accepted = api.posts().into_iter().filter(|p| p.accepted()).count();
    assert_eq!(accepted, 1, "{:?}", api.posts());
    assert!(
        bootstrap.stderr().contains("retrying in"),
        "a refused connect is retried: {}",
        bootstrap.stderr()
    );
}

#[test]
fn wrong_content_length_on_next_is_an_invalid_event_for_that_request() {
    let api = FakeApi::start();
    api.inject(
        Endpoint::Next,
        Fault::Raw(b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: raw-1\r\nContent-Length: 100\r\n\r\nonly 19 bytes here.".to_vec()),
    );
    let ids = api.push_events([&br#"{"message":"first"}"#[..]]);
    let mut bootstrap = launch(&api, "echo", &[]);
    let answers = api.wait_answers(&["raw-1".to_owned(), ids[0].clone()], PATIENCE);
    assert_eq!(answers[0].error_type(), "Runtime.InvalidEvent");
    assert!(
        answers[0]
            .error_message()
            .contains("did not arrive whole (19 bytes read)"),
        "{}",
        answers[0].error_message()
    );
    check_served("echo", &answers[1], "first");
    assert!(bootstrap.is_running());
}

#[test]
fn missing_or_empty_request_id_exits_because_it_cannot_be_answered() {
    for invocation in [
        Invocation::new("{}").without_header("Lambda-Runtime-Aws-Request-Id"),
        Invocation::new("{}").header("Lambda-Runtime-Aws-Request-Id", ""),
    ] {
        row(
            "echo",
            |api| drop(api.push(invocation)),
            Expect::Exits("Lambda-Runtime-Aws-Request-Id"),
        );
    }
}

#[test]
fn runtime_api_that_vanishes_for_3_seconds_is_waited_for_without_spinning() {
    let api = FakeApi::start();
    let first = api.push_events([&br#"{"message":"first"}"#[..]]);
    let mut bootstrap = launch(&api, "echo", &[]);
    api.wait_answers(&first, PATIENCE);
    let cpu_before = cpu_ticks(bootstrap.pid());
    api.vanish(Duration::from_secs(3));
    let second = api.push_events([&br#"{"message":"second"}"#[..]]);
    let answers = api.wait_answers(&second, PATIENCE);
    check_served("echo", &answers[0], "second");
    let cpu = cpu_ticks(bootstrap.pid()) - cpu_before;
    assert!(
        cpu < 30,
        "{cpu} CPU ticks (10 ms each) spent waiting: spinning"
    );
    assert!(bootstrap.is_running());
    let (found, stderr) = bootstrap.wait_stderr("retrying in", PATIENCE);
    assert!(found, "the outage is logged: {stderr}");
    assert_each_answered_once(&api);
}

/// User plus system CPU time of a process, in clock ticks (1/100 s), from /proc.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/PID/stat");
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

// Issue 18: the runtime's own limits never lose an invocation. Each test failed before it.

/// An error event whose message is `message`, for the `error` and `panic` handlers.
fn message_event(message: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ "message": message })).unwrap()
}

/// The posts for one request id.
fn posts_for(api: &FakeApi, id: &str) -> Vec<lambda_blocking_rt_tests::Post> {
    api.posts()
        .into_iter()
        .filter(|p| p.request_id == id)
        .collect()
}

#[test]
fn an_error_report_of_131_000_bytes_is_delivered_and_serving_goes_on() {
    let api = FakeApi::start();
    let message = "x".repeat(131_000);
    let big = api.push(Invocation::new(message_event(&message)));
    let next = api.push_events([&br#"{"message":"second"}"#[..]]);
    let mut bootstrap = launch(&api, "error", &[]);
    let answers = api.wait_answers(&[big, next[0].clone()], PATIENCE);
    assert_eq!(answers[0].error_type(), "DemoError");
    assert_eq!(answers[0].error_message(), message, "the whole message");
    let cause = answers[0].header("Lambda-Runtime-Function-Xray-Error-Cause");
    assert!(
        cause.is_none_or(|c| serde_json::from_str::<serde_json::Value>(c).is_ok()),
        "a cause, when sent, is a whole JSON document"
    );
    check_served("error", &answers[1], "second");
    assert_each_answered_once(&api);
    assert!(bootstrap.is_running(), "{}", bootstrap.stderr());
}

#[test]
fn a_panic_message_of_48_kb_of_emoji_is_delivered_and_serving_goes_on() {
    let api = FakeApi::start();
    let message = "😀".repeat(12_000);
    let big = api.push(Invocation::new(message_event(&message)));
    let next = api.push(Invocation::new(message_event("second")));
    let mut bootstrap = launch(&api, "panic", &[]);
    let answers = api.wait_answers(&[big, next], PATIENCE);
    assert_eq!(answers[0].error_type(), "Runtime.HandlerPanic");
    assert_eq!(answers[0].error_message(), message);
    assert_eq!(answers[1].error_message(), "second");
    assert_each_answered_once(&api);
    assert!(bootstrap.is_running(), "{}", bootstrap.stderr());
}

/// A `/next` answer, raw, whose head holds `headers` (and a 2-byte body, `{}`).
fn raw_next(headers: &str) -> Vec<u8> {
    format!("HTTP/1.1 200 OK\r\n{headers}Content-Length: 2\r\n\r\n{{}}").into_bytes()
}

/// Runs the `echo` bootstrap with `fault` on the first `/next`; returns the API, the process,
/// and the one event queued after it (served by the time this returns).
fn after_raw_next(answer: Vec<u8>) -> (FakeApi, lambda_blocking_rt_tests::Bootstrap) {
    let api = FakeApi::start();
    api.inject(Endpoint::Next, Fault::Raw(answer));
    let next = api.push_events([&br#"{"message":"second"}"#[..]]);
    let bootstrap = launch(&api, "echo", &[]);
    let answers = api.wait_answers(&next, PATIENCE);
    check_served("echo", &answers[0], "second");
    (api, bootstrap)
}

/// The one answer for `id`: a `Runtime.InvalidEvent` error report whose message says `says`; and
/// the runtime serves on.
fn assert_one_invalid_event(
    api: &FakeApi,
    bootstrap: &mut lambda_blocking_rt_tests::Bootstrap,
    id: &str,
    says: &str,
) {
    let posts = posts_for(api, id);
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!(posts[0].endpoint, Endpoint::Error);
    assert_eq!(posts[0].error_type(), "Runtime.InvalidEvent");
    let message = posts[0].error_message();
    assert!(message.contains(says), "{message}");
    assert!(bootstrap.is_running(), "{}", bootstrap.stderr());
}

#[test]
fn next_head_over_64_kib_is_answered_with_an_invalid_event() {
    let filler = "f".repeat(70_000);
    let (api, mut bootstrap) = after_raw_next(raw_next(&format!(
        "Lambda-Runtime-Aws-Request-Id: big-head-1\r\nX-Filler: {filler}\r\n"
    )));
    assert_one_invalid_event(&api, &mut bootstrap, "big-head-1", "could not be read");
}

#[test]
fn next_with_more_than_128_headers_is_answered_with_an_invalid_event() {
    let mut headers = String::from("Lambda-Runtime-Aws-Request-Id: many-headers-1\r\n");
    for i in 0..140 {
        headers.push_str(&format!("X-Filler-{i}: {i}\r\n"));
    }
    let (api, mut bootstrap) = after_raw_next(raw_next(&headers));
    assert_one_invalid_event(&api, &mut bootstrap, "many-headers-1", "too many headers");
}

/// Waits for one `[ERROR]` line holding `says` on the runtime's stderr, and checks it was not
/// taken for a network failure (nothing retried).
fn assert_one_error_line(bootstrap: &lambda_blocking_rt_tests::Bootstrap, says: &str) {
    let (_, stderr) = bootstrap.wait_stderr(says, PATIENCE);
    let lines: Vec<&str> = stderr.lines().filter(|l| l.contains(says)).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].starts_with("[ERROR]"), "{stderr}");
    assert!(
        !stderr.contains("retrying"),
        "not a network failure: {stderr}"
    );
}

#[test]
fn next_head_over_64_kib_without_a_request_id_is_one_error_line() {
    let filler = "f".repeat(70_000);
    let (api, bootstrap) = after_raw_next(raw_next(&format!("X-Filler: {filler}\r\n")));
    // Logged before the next poll, but stderr is collected by a thread of its own: waited for.
    assert_one_error_line(&bootstrap, "an invocation was dropped");
    assert_eq!(api.posts().len(), 1, "only the second event's answer");
}

#[test]
fn request_id_too_long_for_a_url_is_one_error_line_and_serving_goes_on() {
    let api = FakeApi::start();
    // 30 000 bytes in the head; 90 000 percent-encoded in a URL, past the longest URI.
    let long = "@".repeat(30_000);
    api.push(Invocation::new("{}").header("Lambda-Runtime-Aws-Request-Id", &long));
    let next = api.push_events([&br#"{"message":"second"}"#[..]]);
    let mut bootstrap = launch(&api, "echo", &[]);
    let answers = api.wait_answers(&next, PATIENCE);
    check_served("echo", &answers[0], "second");
    assert_one_error_line(&bootstrap, "too long for the URL");
    assert!(bootstrap.is_running());
}

#[test]
fn next_claiming_100_mib_and_sending_10_bytes_does_not_reserve_100_mib() {
    let api = FakeApi::start();
    api.inject(
        Endpoint::Next,
        Fault::Raw(
            b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: claim-1\r\nContent-Length: 104857600\r\n\r\n0123456789"
                .to_vec(),
        ),
    );
    let next = api.push_events([&br#"{"message":"second"}"#[..]]);
    let mut bootstrap = launch(&api, "echo", &[]);
    let answers = api.wait_answers(&["claim-1".to_owned(), next[0].clone()], PATIENCE);
    assert_eq!(answers[0].error_type(), "Runtime.InvalidEvent");
    check_served("echo", &answers[1], "second");
    let peak = peak_rss_kib(bootstrap.pid());
    // A debug build serves echo in a few MiB; the claim would be 100 MiB.
    assert!(peak < 48 * 1024, "peak RSS {peak} KiB");
    assert!(bootstrap.is_running());
}

/// The peak resident set of a process (VmHWM), in KiB, from /proc.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/PID/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status")
}

#[test]
fn request_ids_dot_and_dot_dot_are_answered_on_their_own_path() {
    let api = FakeApi::start();
    let ids: Vec<String> = [".", "..", "a b/%?#.."]
        .into_iter()
        .map(|id| {
            api.push(
                Invocation::new(&br#"{"message":"dots"}"#[..])
                    .header("Lambda-Runtime-Aws-Request-Id", id),
            )
        })
        .collect();
    let mut bootstrap = launch(&api, "echo", &[]);
    let answers = api.wait_answers(&ids, PATIENCE);
    for answer in &answers {
        assert_eq!(answer.endpoint, Endpoint::Response, "{answer:?}");
        assert!(
            !answer.path.split('/').any(|s| s == "." || s == ".."),
            "{}",
            answer.path
        );
    }
    assert_each_answered_once(&api);
    assert!(bootstrap.is_running());
}
