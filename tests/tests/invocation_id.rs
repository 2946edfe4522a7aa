//! `Lambda-Runtime-Invocation-Id`: the nonce `/next` gives each attempt of an invocation goes
//! back, unchanged, as a header on that attempt's `/response` or `/error`, and nowhere else; a
//! late answer Lambda refuses with 410 is logged and serving goes on.

use lambda_blocking_rt_tests::{Endpoint, FakeApi, Fault, Invocation, PATIENCE, Post, launch};

const HEADER: &str = "Lambda-Runtime-Invocation-Id";

/// Queues an event for each of `invocation_ids` (`None`: no header); returns the request ids.
fn push_with(api: &FakeApi, event: &str, invocation_ids: &[Option<&str>]) -> Vec<String> {
    invocation_ids
        .iter()
        .map(|invocation_id| {
            let invocation = Invocation::new(event);
            api.push(match invocation_id {
                Some(id) => invocation.header(HEADER, id),
                None => invocation,
            })
        })
        .collect()
}

fn echoed(answers: &[Post]) -> Vec<Option<&str>> {
    answers.iter().map(|a| a.header(HEADER)).collect()
}

#[test]
fn the_invocation_id_is_echoed_on_the_response_and_left_out_when_next_had_none() {
    let sent = [
        Some("8f7e6d5c-4b3a-4210-9f8e-7d6c5b4a3921"),
        None,
        Some("attempt-2.retry_~7"),
    ];
    let api = FakeApi::start();
    let ids = push_with(&api, "{}", &sent);
    let _bootstrap = launch(&api, "echo", &[]);
    let answers = api.wait_answers(&ids, PATIENCE);
    assert!(answers.iter().all(|a| a.endpoint == Endpoint::Response));
    // The middle one must not carry the previous invocation's id.
    assert_eq!(echoed(&answers), sent);
}

#[test]
fn the_invocation_id_is_echoed_on_the_error_report_and_left_out_when_next_had_none() {
    let sent = [
        Some("0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5"),
        None,
        Some("attempt-3"),
    ];
    let api = FakeApi::start();
    let ids = push_with(&api, r#"{"message":"refused"}"#, &sent);
    let _bootstrap = launch(&api, "error", &[]);
    let answers = api.wait_answers(&ids, PATIENCE);
    assert!(answers.iter().all(|a| a.endpoint == Endpoint::Error));
    assert!(answers.iter().all(|a| a.error_type() == "DemoError"));
    assert_eq!(echoed(&answers), sent);
}

#[test]
fn error_reports_the_runtime_makes_itself_carry_the_invocation_id() {
    // A panic, and an event whose headers are invalid (no handler runs for it).
    let api = FakeApi::start();
    let panicked = push_with(&api, r#"{"message":"boom"}"#, &[Some("attempt-panic")]);
    let _bootstrap = launch(&api, "panic", &[]);
    let answer = &api.wait_answers(&panicked, PATIENCE)[0];
    assert_eq!(answer.error_type(), "Runtime.HandlerPanic");
    assert_eq!(answer.header(HEADER), Some("attempt-panic"));

    let api = FakeApi::start();
    let invalid = api.push(
        Invocation::new("{}")
            .header("Lambda-Runtime-Client-Context", "{not json")
            .header(HEADER, "attempt-invalid"),
    );
    let _bootstrap = launch(&api, "echo", &[]);
    let answer = &api.wait_answers(&[invalid], PATIENCE)[0];
    assert_eq!(answer.error_type(), "Runtime.InvalidEvent");
    assert_eq!(answer.header(HEADER), Some("attempt-invalid"));
}

#[test]
fn a_second_attempt_with_the_same_request_id_echoes_its_own_invocation_id() {
    let api = FakeApi::start();
    let first = Invocation::new(r#"{"attempt":1}"#).header(HEADER, "attempt-1");
    let request_id = first.id();
    api.push(first);
    api.push(
        Invocation::new(r#"{"attempt":2}"#)
            .header("Lambda-Runtime-Aws-Request-Id", &request_id)
            .header(HEADER, "attempt-2"),
    );
    let _bootstrap = launch(&api, "echo", &[]);
    // The fake API accepts the first answer for a request id and refuses (400) a second.
    let posts = api.wait_posts(PATIENCE, |posts| posts.len() >= 2);
    let for_attempts: Vec<(&[u8], Option<&str>)> = posts
        .iter()
        .map(|p| (&p.body[..], p.header(HEADER)))
        .collect();
    assert_eq!(
        for_attempts,
        [
            (&br#"{"attempt":1}"#[..], Some("attempt-1")),
            (&br#"{"attempt":2}"#[..], Some("attempt-2"))
        ]
    );
    assert!(posts.iter().all(|p| p.request_id == request_id));
}

#[test]
fn a_late_answer_refused_with_410_is_logged_with_its_request_id_and_the_next_is_served() {
    for (endpoint, handler, what) in [
        (Endpoint::Response, "echo", "response"),
        (Endpoint::Error, "error", "error report"),
    ] {
        let api = FakeApi::start();
        api.inject(endpoint, Fault::Status(410));
        let ids = push_with(
            &api,
            r#"{"message":"late"}"#,
            &[Some("attempt-timed-out"), Some("attempt-fresh")],
        );
        let mut bootstrap = launch(&api, handler, &[]);
        let served = &api.wait_answers(&ids[1..], PATIENCE)[0];
        assert_eq!(served.endpoint, endpoint, "{what}");
        assert_eq!(served.header(HEADER), Some("attempt-fresh"), "{what}");

        let refused: Vec<Post> = api
            .posts()
            .into_iter()
            .filter(|p| p.request_id == ids[0])
            .collect();
        assert_eq!(refused.len(), 1, "{what}: not sent again: {refused:?}");
        assert_eq!(refused[0].status, 410);
        assert_eq!(refused[0].header(HEADER), Some("attempt-timed-out"));
        let logged = format!(
            "invocation {} already timed out: its {what} was refused (HTTP 410 Gone)",
            ids[0]
        );
        let (found, stderr) = bootstrap.wait_stderr(&logged, PATIENCE);
        assert!(found, "{what}: {stderr}");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{what}: one warn line: {stderr}");
        assert!(lines[0].starts_with("[WARN]"), "{what}: {stderr}");
        assert!(bootstrap.is_running(), "{what}: {stderr}");
    }
}
