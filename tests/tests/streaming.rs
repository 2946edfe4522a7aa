//! Streamed responses: the real bootstrap's `stream` and `http-stream` handlers, and a user's
//! streaming function, against the fake Runtime API, which parses the chunked body and its
//! trailers and notes when each chunk arrived.

use std::time::Duration;

use base64::Engine;
use lambda_blocking_rt_tests::{
    Bootstrap, Endpoint, FakeApi, Fault, Invocation, PATIENCE, Post, lambda_env, launch,
    test_binary_path,
};

const MODE: &str = "Lambda-Runtime-Function-Response-Mode";
const ERROR_TYPE: &str = "Lambda-Runtime-Function-Error-Type";
const ERROR_BODY: &str = "Lambda-Runtime-Function-Error-Body";

/// The error a stream's trailers carry: (type trailer, decoded error JSON).
fn trailer_error(post: &Post) -> (String, serde_json::Value) {
    let error_type = post
        .trailer(ERROR_TYPE)
        .unwrap_or_else(|| panic!("no error type trailer: {post:?}"))
        .to_owned();
    let body = base64::engine::general_purpose::STANDARD
        .decode(post.trailer(ERROR_BODY).expect("an error body trailer"))
        .expect("the error body trailer is base64");
    (
        error_type,
        serde_json::from_slice(&body).expect("the error body is JSON"),
    )
}

fn assert_streaming_request(post: &Post) {
    assert_eq!(post.endpoint, Endpoint::Response);
    assert_eq!(post.header(MODE), Some("streaming"));
    assert_eq!(post.header("Transfer-Encoding"), Some("chunked"));
    assert_eq!(
        post.header("Trailer"),
        Some("Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body")
    );
}

fn user_function(api: &FakeApi) -> Bootstrap {
    let binary = test_binary_path("stream-faults-fn");
    Bootstrap::spawn_binary(&binary, None, &lambda_env(api, "bootstrap", &[]))
}

fn native_only() -> bool {
    // The user binary of this test crate is built for the host only.
    std::env::var_os("BOOTSTRAP_FUNCTIONS").is_none()
}

#[test]
fn lines_arrive_as_they_are_written_and_the_body_is_exact() {
    let api = FakeApi::start();
    let ids = api.push_events([&br#"{"chunks":5,"delay_ms":300}"#[..]]);
    let next = api.push_events([&b"{\"chunks\":1}"[..]]);
    let mut bootstrap = launch(&api, "stream", &[]);
    let post = &api.wait_answers(&ids, PATIENCE)[0];
    assert_streaming_request(post);
    assert_eq!(
        post.header("Content-Type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(post.body, b"chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\n");
    assert_eq!(
        post.chunks.len(),
        5,
        "one chunk per line: {:?}",
        post.chunks
    );
    let (first, _) = post.chunks[0];
    let (last, _) = post.chunks[4];
    assert!(
        last - first >= Duration::from_millis(1000),
        "the first line arrived {first:?} after the head, the last {last:?}: buffered?"
    );
    assert!(
        post.trailers.is_empty(),
        "no error, no trailers: {:?}",
        post.trailers
    );
    assert_eq!(api.wait_answers(&next, PATIENCE)[0].body, b"chunk 0\n");
    assert!(bootstrap.is_running());
}

#[test]
fn an_error_mid_stream_ends_it_with_the_error_trailers_and_serving_goes_on() {
    let api = FakeApi::start();
    let ids = api.push_events([&br#"{"chunks":5,"fail_after":2}"#[..], br#"{"chunks":2}"#]);
    let mut bootstrap = launch(&api, "stream", &[]);
    let answers = api.wait_answers(&ids, PATIENCE);
    let failed = &answers[0];
    assert_streaming_request(failed);
    assert_eq!(failed.body, b"chunk 0\nchunk 1\n");
    let (error_type, error) = trailer_error(failed);
    assert_eq!(error_type, "StreamError");
    assert_eq!(error["errorType"], "StreamError");
    assert_eq!(error["errorMessage"], "failed on purpose after 2 lines");
    assert_eq!(answers[1].body, b"chunk 0\nchunk 1\n");
    assert!(answers[1].trailers.is_empty());
    assert!(
        api.posts().iter().all(|p| p.endpoint != Endpoint::Error),
        "an error after the first byte goes in the trailers, not to /error"
    );
    assert!(bootstrap.is_running());
}

#[test]
fn an_error_before_any_byte_is_a_plain_error_report() {
    let api = FakeApi::start();
    let ids = api.push_events([&br#"{"chunks":10001}"#[..], br#"{"chunks":1}"#]);
    let _bootstrap = launch(&api, "stream", &[]);
    let answers = api.wait_answers(&ids, PATIENCE);
    assert_eq!(answers[0].endpoint, Endpoint::Error);
    assert_eq!(answers[0].error_type(), "InvalidInput");
    assert_eq!(answers[0].header(MODE), None);
    assert_eq!(answers[1].body, b"chunk 0\n");
}

#[test]
fn a_panic_mid_stream_ends_it_with_the_panic_in_the_trailers() {
    if !native_only() {
        return;
    }
    let api = FakeApi::start();
    let ids = api.push_events([&br#"{"panic_after":3}"#[..], br#"{}"#]);
    let mut process = user_function(&api);
    let answers = api.wait_answers(&ids, PATIENCE);
    assert_eq!(answers[0].body, b"line 0\nline 1\nline 2\n");
    let (error_type, error) = trailer_error(&answers[0]);
    assert_eq!(error_type, "Runtime.HandlerPanic");
    assert_eq!(error["errorMessage"], "panicked on purpose after 3 lines");
    assert!(
        error["stackTrace"][0]
            .as_str()
            .is_some_and(|s| s.contains("stream-faults-fn.rs")),
        "{error}"
    );
    assert_eq!(answers[1].body, b"", "the next invocation is served");
    assert!(process.is_running());
}

#[test]
fn writing_past_200_mib_ends_the_stream_with_response_size_too_large() {
    if !native_only() {
        return;
    }
    let api = FakeApi::start();
    let ids = api.push_events([&br#"{"flood":true}"#[..], br#"{}"#]);
    let mut process = user_function(&api);
    let answers = api.wait_answers(&ids, Duration::from_secs(120));
    assert_eq!(
        answers[0].body.len(),
        200 * 1024 * 1024,
        "up to the limit, not a byte more"
    );
    let (error_type, error) = trailer_error(&answers[0]);
    assert_eq!(error_type, "Function.ResponseSizeTooLarge");
    assert_eq!(error["errorType"], "Function.ResponseSizeTooLarge");
    assert_eq!(answers[1].body, b"");
    assert!(process.is_running());
}

#[test]
fn the_stream_connection_is_kept_for_the_next_stream() {
    let api = FakeApi::start();
    let ids = api.push_events((0..4).map(|_| br#"{"chunks":2}"#.to_vec()));
    let _bootstrap = launch(&api, "stream", &[]);
    let answers = api.wait_answers(&ids, PATIENCE);
    assert!(answers.iter().all(|a| a.body == b"chunk 0\nchunk 1\n"));
    // One keep-alive connection for /next, one for the streamed responses.
    assert_eq!(
        api.connections(),
        2,
        "a connection per stream would be {}",
        1 + ids.len()
    );
}

#[test]
fn a_stream_connection_closed_between_invocations_is_reopened() {
    let api = FakeApi::start();
    // The first stream's connection is closed after its answer; the second stream must not be
    // lost on it.
    api.inject(Endpoint::Response, Fault::CloseAfterAnswer);
    let first = api.push_events([&br#"{"chunks":1}"#[..]]);
    let _bootstrap = launch(&api, "stream", &[]);
    api.wait_answers(&first, PATIENCE);
    // The second event only once the close is done: a close racing the reuse (the API closing
    // an idle connection as the runtime starts writing on it) is a different case, which no
    // client can win without replaying the handler.
    assert!(api.wait_closed_after_answer(1, PATIENCE));
    let second = api.push_events([&br#"{"chunks":2}"#[..]]);
    let answers = api.wait_answers(&second, PATIENCE);
    assert_eq!(answers[0].body, b"chunk 0\nchunk 1\n");
}

#[test]
fn the_invocation_id_is_echoed_on_the_streaming_post() {
    let api = FakeApi::start();
    let with = api.push(
        Invocation::new(r#"{"chunks":1}"#).header("Lambda-Runtime-Invocation-Id", "attempt-9"),
    );
    let without = api.push(Invocation::new(r#"{"chunks":1}"#));
    let _bootstrap = launch(&api, "stream", &[]);
    let answers = api.wait_answers(&[with, without], PATIENCE);
    assert_eq!(
        answers[0].header("Lambda-Runtime-Invocation-Id"),
        Some("attempt-9")
    );
    assert_eq!(answers[1].header("Lambda-Runtime-Invocation-Id"), None);
}

#[test]
fn a_late_stream_refused_with_410_is_logged_and_serving_goes_on() {
    let api = FakeApi::start();
    api.inject(Endpoint::Response, Fault::Status(410));
    let late = api.push(Invocation::new(r#"{"chunks":1}"#));
    let next = api.push_events([&br#"{"chunks":1}"#[..]]);
    let mut bootstrap = launch(&api, "stream", &[]);
    assert_eq!(api.wait_answers(&next, PATIENCE)[0].body, b"chunk 0\n");
    let (logged, stderr) = bootstrap.wait_stderr("already timed out", PATIENCE);
    assert!(logged && stderr.contains(&late), "{stderr}");
    assert!(bootstrap.is_running());
}

#[test]
fn a_function_url_stream_starts_with_the_http_prelude() {
    let api = FakeApi::start();
    let ids = api.push_events([&b"{}"[..]]);
    let _bootstrap = launch(&api, "http-stream", &[]);
    let post = &api.wait_answers(&ids, PATIENCE)[0];
    assert_streaming_request(post);
    let (prelude, page) = post.prelude_and_body();
    assert_eq!(prelude["statusCode"], 200);
    assert_eq!(
        prelude["headers"]["content-type"],
        "text/html; charset=utf-8"
    );
    assert_eq!(prelude["cookies"][0], "visited=1; Path=/; HttpOnly");
    let page = String::from_utf8_lossy(&page);
    assert!(
        page.starts_with("<!doctype html>") && page.contains("third part"),
        "{page}"
    );
    assert!(
        post.chunks.len() >= 4,
        "streamed in parts: {:?}",
        post.chunks
    );
}

#[test]
fn streams_run_concurrently_on_managed_instances() {
    let api = FakeApi::start();
    let ids = api.push_events((0..4).map(|_| br#"{"chunks":4,"delay_ms":200}"#.to_vec()));
    let started = std::time::Instant::now();
    let _bootstrap = launch(&api, "stream", &[("AWS_LAMBDA_MAX_CONCURRENCY", "4")]);
    let answers = api.wait_answers(&ids, PATIENCE);
    for answer in &answers {
        assert_eq!(answer.body, b"chunk 0\nchunk 1\nchunk 2\nchunk 3\n");
    }
    // Four streams of 600 ms each, one after another, would take 2.4 s.
    assert!(
        started.elapsed() < Duration::from_millis(2300)
            || std::env::var_os("BOOTSTRAP_RUNNER").is_some(),
        "took {:?}",
        started.elapsed()
    );
}

// Issue 18: statuses and resets at the start (after the head, before any chunk), in the middle
// (after two of five lines) and at the end (the whole body read) of a stream. Every invocation
// gets exactly the answers the status calls for: none more after a 410, an error report after a
// 413 or a reset, and a 500 ends the process.

/// Where in the stream the fault strikes.
#[derive(Clone, Copy)]
enum At {
    Start,
    Middle,
    End,
}

/// The fault: a status the API answers the stream with, or a reset (`None`).
fn stream_fault(at: At, status: Option<u16>) -> Fault {
    match (at, status) {
        (At::Start, status) => Fault::StreamCut {
            after_bytes: 0,
            status,
        },
        (At::Middle, status) => Fault::StreamCut {
            after_bytes: 16,
            status,
        },
        (At::End, Some(status)) => Fault::Status(status),
        (At::End, None) => Fault::ResetAfter,
    }
}

/// Streams five lines, 150 ms apart, with `fault` on the stream; then one more invocation.
/// Returns the API, the process, the faulted request id and the next one.
fn faulted_stream(fault: Fault) -> (FakeApi, Bootstrap, String, String) {
    let api = FakeApi::start();
    api.inject(Endpoint::Response, fault);
    let faulted = api.push(Invocation::new(r#"{"chunks":5,"delay_ms":150}"#));
    let next = api.push(Invocation::new(r#"{"chunks":1}"#));
    let bootstrap = launch(&api, "stream", &[]);
    (api, bootstrap, faulted, next)
}

fn posts_for(api: &FakeApi, id: &str) -> Vec<Post> {
    api.posts()
        .into_iter()
        .filter(|p| p.request_id == id)
        .collect()
}

/// 410: the late stream is refused; nothing more is sent for it, and serving goes on.
fn stream_410_is_the_only_answer(at: At) {
    let (api, mut bootstrap, late, next) = faulted_stream(stream_fault(at, Some(410)));
    assert_eq!(api.wait_answers(&[next], PATIENCE)[0].body, b"chunk 0\n");
    let (logged, stderr) = bootstrap.wait_stderr("already timed out", PATIENCE);
    assert!(logged && stderr.contains(&late), "{stderr}");
    let posts = posts_for(&api, &late);
    assert_eq!(posts.len(), 1, "no second answer after a 410: {posts:#?}");
    assert_eq!(posts[0].status, 410);
    assert!(bootstrap.is_running());
}

/// 413: the stream is refused as too large; the invocation is answered with the size error.
fn stream_413_becomes_a_size_error(at: At) {
    let (api, mut bootstrap, refused, next) = faulted_stream(stream_fault(at, Some(413)));
    let answers = api.wait_answers(&[refused.clone(), next], PATIENCE);
    assert_eq!(answers[0].endpoint, Endpoint::Error);
    assert_eq!(answers[0].error_type(), "Function.ResponseSizeTooLarge");
    assert_eq!(answers[1].body, b"chunk 0\n");
    assert_eq!(
        posts_for(&api, &refused).len(),
        2,
        "the stream, then the error"
    );
    assert!(bootstrap.is_running());
}

/// 500: a container error ends the process, as on every other request.
fn stream_500_exits(at: At) {
    let (api, mut bootstrap, broken, _) = faulted_stream(stream_fault(at, Some(500)));
    let status = bootstrap.wait_exit(PATIENCE).expect("the runtime exits");
    assert_eq!(status.code(), Some(1));
    bootstrap.assert_stderr_contains("HTTP 500");
    let posts = posts_for(&api, &broken);
    assert_eq!(posts.len(), 1, "nothing sent after the 500: {posts:#?}");
}

/// A reset: the stream broke without an answer; the invocation is answered with
/// `Runtime.StreamBroken`, once, and serving goes on.
fn stream_reset_is_reported_as_broken(at: At) {
    let (api, mut bootstrap, broken, next) = faulted_stream(stream_fault(at, None));
    let answers = api.wait_answers(&[broken.clone(), next], PATIENCE);
    assert_eq!(answers[0].endpoint, Endpoint::Error);
    assert_eq!(answers[0].error_type(), "Runtime.StreamBroken");
    assert_eq!(answers[1].body, b"chunk 0\n");
    let accepted = posts_for(&api, &broken)
        .iter()
        .filter(|p| p.accepted())
        .count();
    assert_eq!(accepted, 1);
    assert!(bootstrap.is_running());
}

macro_rules! stream_rows {
    ($($name:ident: $check:ident, $at:expr;)*) => {$(
        #[test]
        fn $name() {
            $check($at);
        }
    )*};
}

stream_rows! {
    stream_410_at_start_is_the_only_answer: stream_410_is_the_only_answer, At::Start;
    stream_410_in_the_middle_is_the_only_answer: stream_410_is_the_only_answer, At::Middle;
    stream_410_at_end_is_the_only_answer: stream_410_is_the_only_answer, At::End;
    stream_413_at_start_becomes_a_size_error: stream_413_becomes_a_size_error, At::Start;
    stream_413_in_the_middle_becomes_a_size_error: stream_413_becomes_a_size_error, At::Middle;
    stream_413_at_end_becomes_a_size_error: stream_413_becomes_a_size_error, At::End;
    stream_500_at_start_exits: stream_500_exits, At::Start;
    stream_500_in_the_middle_exits: stream_500_exits, At::Middle;
    stream_500_at_end_exits: stream_500_exits, At::End;
    stream_reset_at_start_is_reported_as_broken: stream_reset_is_reported_as_broken, At::Start;
    stream_reset_in_the_middle_is_reported_as_broken: stream_reset_is_reported_as_broken, At::Middle;
    stream_reset_at_end_is_reported_as_broken: stream_reset_is_reported_as_broken, At::End;
}
