//! Error paths: handler errors and panics, init failures, statuses that end the runtime.
//! Every invocation handed out gets exactly one accepted answer.

use std::time::{Duration, Instant};

use lambda_blocking_rt_tests::{
    Bootstrap, Endpoint, FakeApi, Fault, Invocation, PATIENCE, Post, launch,
};

/// Waits for the bootstrap to exit unsuccessfully, and returns the one thing it posted: an init
/// error of this type.
fn the_init_error(bootstrap: &mut Bootstrap, api: &FakeApi, error_type: &str) -> Post {
    let status = bootstrap.wait_exit(PATIENCE).expect("exits");
    assert!(!status.success());
    let posts = api.posts();
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!(posts[0].endpoint, Endpoint::InitError);
    assert_eq!(posts[0].error_type(), error_type);
    posts.into_iter().next().unwrap()
}

fn assert_each_answered_once(api: &FakeApi) {
    let (handed, wrong) = api.answer_counts();
    assert!(!handed.is_empty());
    assert!(
        wrong.is_empty(),
        "ids without exactly one accepted answer: {wrong:?}"
    );
}

#[test]
fn panic_in_handler_is_reported_and_loop_continues() {
    let api = FakeApi::start();
    let ids = api.push_events([&br#"{"message":"index out of range"}"#[..], b"{}"]);
    let mut bootstrap = launch(&api, "panic", &[]);
    let answers = api.wait_answers(&ids, PATIENCE);
    for answer in &answers {
        assert_eq!(answer.endpoint, Endpoint::Error);
        assert_eq!(answer.error_type(), "Runtime.HandlerPanic");
        assert_eq!(
            answer.header("Lambda-Runtime-Function-Error-Type"),
            Some("Runtime.HandlerPanic")
        );
    }
    assert_eq!(answers[0].error_message(), "index out of range");
    assert_eq!(answers[1].error_message(), "the panic handler panicked");
    assert!(bootstrap.is_running(), "a panic must not end the process");
    let (logged, stderr) = bootstrap.wait_stderr("handler panicked at", PATIENCE);
    assert!(logged, "the panic is logged: {stderr}");
    assert_each_answered_once(&api);
}

#[test]
fn a_panic_report_says_where_in_its_stack_trace_and_xray_cause() {
    let api = FakeApi::start();
    let ids = api.push_events([&br#"{"message":"where am I"}"#[..]]);
    let _bootstrap = launch(&api, "panic", &[]);
    let answer = &api.wait_answers(&ids, PATIENCE)[0];
    let trace = answer.json()["stackTrace"].clone();
    let line = trace[0].as_str().unwrap_or_default();
    assert!(
        line.starts_with("panicked at ") && line.contains("handlers/src/panic.rs:"),
        "{trace}"
    );
    let cause: serde_json::Value = serde_json::from_str(
        answer
            .header("Lambda-Runtime-Function-Xray-Error-Cause")
            .expect("an X-Ray cause header"),
    )
    .expect("the cause is JSON");
    let exception = &cause["exceptions"][0];
    assert_eq!(exception["type"], "Runtime.HandlerPanic");
    assert_eq!(exception["message"], "where am I");
    let frame = &exception["stack"][0];
    assert!(
        frame["path"]
            .as_str()
            .unwrap()
            .ends_with("handlers/src/panic.rs"),
        "{cause}"
    );
    assert!(frame["line"].as_u64().unwrap() > 0, "{cause}");
    assert_eq!(cause["paths"][0], frame["path"]);
    assert!(
        cause["working_directory"]
            .as_str()
            .is_some_and(|d| d.starts_with('/')),
        "{cause}"
    );
}

#[test]
fn a_handler_error_carries_an_xray_cause_without_frames() {
    let api = FakeApi::start();
    let ids = api.push_events([&br#"{"message":"plain failure"}"#[..]]);
    let _bootstrap = launch(&api, "error", &[]);
    let answer = &api.wait_answers(&ids, PATIENCE)[0];
    assert_eq!(answer.json()["stackTrace"], serde_json::json!([]));
    let cause: serde_json::Value = serde_json::from_str(
        answer
            .header("Lambda-Runtime-Function-Xray-Error-Cause")
            .expect("an X-Ray cause header"),
    )
    .unwrap();
    assert_eq!(cause["exceptions"][0]["type"], "DemoError");
    assert_eq!(cause["exceptions"][0]["message"], "plain failure");
    assert_eq!(cause["exceptions"][0]["stack"], serde_json::json!([]));
}

#[test]
fn unknown_handler_is_an_init_error_listing_the_known_names() {
    let api = FakeApi::start();
    api.push(Invocation::new("{}"));
    let mut bootstrap = launch(&api, "no-such-fn", &[]);
    let post = the_init_error(&mut bootstrap, &api, "Runtime.NoSuchHandler");
    assert_eq!(
        post.header("Lambda-Runtime-Function-Error-Type"),
        Some("Runtime.NoSuchHandler")
    );
    let message = post.error_message();
    assert!(message.contains("\"no-such-fn\""), "{message}");
    for name in ["echo", "fibonacci", "error", "panic", "context", "hello"] {
        assert!(message.contains(name), "{name} missing from {message}");
    }
    assert_eq!(
        api.next_requests(),
        0,
        "no invocation is taken after a failed init"
    );
}

#[test]
fn handler_that_cannot_be_built_is_an_init_error() {
    let api = FakeApi::start();
    let mut bootstrap = launch(&api, "error", &[("DEMO_INIT_ERROR", "no database")]);
    let status = bootstrap.wait_exit(PATIENCE).expect("exits");
    assert_eq!(status.code(), Some(1));
    let posts = api.posts();
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!(posts[0].endpoint, Endpoint::InitError);
    assert_eq!(posts[0].error_type(), "DemoInitError");
    assert!(posts[0].error_message().contains("no database"));
    bootstrap.assert_stderr_contains("init failed");
}

#[test]
fn missing_runtime_api_variable_is_one_clear_line_and_exit_code_2() {
    let mut bootstrap = Bootstrap::spawn(&[("_HANDLER", "echo")]);
    let status = bootstrap.wait_exit(PATIENCE).expect("exits");
    assert_eq!(status.code(), Some(2));
    let stderr = bootstrap.stderr();
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains("AWS_LAMBDA_RUNTIME_API"), "{stderr}");
    assert!(
        stderr.contains("inside AWS Lambda or a local emulator"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );
}

#[test]
fn response_refused_as_too_large_becomes_a_size_error_and_the_loop_goes_on() {
    let api = FakeApi::start();
    api.inject(Endpoint::Response, Fault::Status(413));
    let ids = api.push_events([&b"too big for the fake"[..], b"fits"]);
    let mut bootstrap = launch(&api, "echo", &[]);
    let answers = api.wait_answers(&ids, PATIENCE);
    assert_eq!(answers[0].endpoint, Endpoint::Error);
    assert_eq!(answers[0].error_type(), "Function.ResponseSizeTooLarge");
    assert_eq!(
        answers[0].header("Lambda-Runtime-Function-Error-Type"),
        Some("Function.ResponseSizeTooLarge")
    );
    assert!(
        answers[0].error_message().contains("20 bytes"),
        "{}",
        answers[0].error_message()
    );
    assert_eq!(answers[1].endpoint, Endpoint::Response);
    assert_eq!(answers[1].body, b"fits");
    assert!(bootstrap.is_running());
    assert_each_answered_once(&api);
}

#[test]
fn next_answering_500_exits_non_zero_promptly_without_spinning() {
    let api = FakeApi::start();
    api.inject(Endpoint::Next, Fault::Status(500));
    let started = Instant::now();
    let mut bootstrap = launch(&api, "echo", &[]);
    let status = bootstrap.wait_exit(PATIENCE).expect("exits");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(status.code(), Some(1));
    assert_eq!(api.next_requests(), 1, "a 500 is not retried");
    let stderr = bootstrap.stderr();
    assert!(stderr.contains("HTTP 500"), "{stderr}");
}

#[test]
fn container_error_when_answering_exits_non_zero() {
    for (endpoint, handler, status) in [
        (Endpoint::Response, "echo", 500),
        (Endpoint::Error, "error", 503),
    ] {
        let api = FakeApi::start();
        api.inject(endpoint, Fault::Status(status));
        api.push(Invocation::new("{}"));
        let mut bootstrap = launch(&api, handler, &[]);
        let exit = bootstrap.wait_exit(PATIENCE).expect("exits");
        assert_eq!(exit.code(), Some(1), "{endpoint:?} {status}");
        assert_eq!(api.posts().len(), 1, "not retried: {:?}", api.posts());
        bootstrap.assert_stderr_contains(&format!("HTTP {status}"));
    }
}

#[test]
fn malformed_client_context_is_an_invalid_event_for_that_request() {
    let api = FakeApi::start();
    let bad = api.push(Invocation::new("{}").header("Lambda-Runtime-Client-Context", "{not json"));
    let good = api.push(Invocation::new("ok"));
    let _bootstrap = launch(&api, "echo", &[]);
    let answers = api.wait_answers(&[bad, good], PATIENCE);
    assert_eq!(answers[0].error_type(), "Runtime.InvalidEvent");
    assert!(
        answers[0]
            .error_message()
            .contains("Lambda-Runtime-Client-Context"),
        "{}",
        answers[0].error_message()
    );
    assert_eq!(answers[1].body, b"ok");
}

#[test]
fn question_mark_on_any_error_is_reported_with_its_type_in_every_kind_of_handler() {
    // (event, errorType, errorMessage): `?` on a std error, anyhow, a boxed error, a String and
    // a &str, in a user's binary that has no map_err (built for the host only).
    if std::env::var_os("BOOTSTRAP_FUNCTIONS").is_some() {
        return;
    }
    let cases = [
        ("std", "ParseIntError", "invalid digit found in string"),
        ("anyhow", "Error", "loading order 7: the store answered 503"),
        ("boxed", "Error", "not a boolean"),
        ("string", "Error", "no item 42"),
        ("str", "Error", "no items at all"),
    ];
    let binary = lambda_blocking_rt_tests::test_binary_path("question-mark-fn");
    for handler in ["plain", "typed", "streamed"] {
        let api = FakeApi::start();
        let events = cases.iter().map(|(kind, _, _)| {
            if handler == "typed" {
                format!("{kind:?}").into_bytes()
            } else {
                kind.as_bytes().to_vec()
            }
        });
        let ok_event = if handler == "typed" {
            &b"\"none\""[..]
        } else {
            b"none"
        };
        let ids = api.push_events(events.chain([ok_event.to_vec()]));
        let env = lambda_blocking_rt_tests::lambda_env(&api, handler, &[]);
        let mut process = Bootstrap::spawn_binary(&binary, None, &env);
        let answers = api.wait_answers(&ids, PATIENCE);
        for ((kind, error_type, message), answer) in cases.iter().zip(&answers) {
            assert_eq!(answer.endpoint, Endpoint::Error, "{handler} {kind}");
            assert_eq!(answer.error_type(), *error_type, "{handler} {kind}");
            assert_eq!(answer.error_message(), *message, "{handler} {kind}");
            assert_eq!(
                answer.header("Lambda-Runtime-Function-Error-Type"),
                Some(*error_type),
                "{handler} {kind}"
            );
        }
        let last = answers.last().unwrap();
        assert_eq!(last.endpoint, Endpoint::Response, "{handler}");
        assert_eq!(
            last.body,
            if handler == "typed" {
                &b"\"ok\""[..]
            } else {
                b"ok"
            }
        );
        assert!(process.is_running(), "{handler}: {}", process.stderr());
    }
}

/// Skipped where the per-function binaries run (`--skip unknown_handler_is_an_init_error_listing`
/// in scripts/test.sh): each holds one handler, which serves any name.
#[test]
fn unknown_handler_is_an_init_error_listing_the_names_when_handler_is_not_utf8() {
    use std::os::unix::ffi::OsStrExt;
    let api = FakeApi::start();
    api.push(Invocation::new("{}"));
    let mut env: Vec<(std::ffi::OsString, std::ffi::OsString)> =
        lambda_blocking_rt_tests::lambda_env(&api, "", &[])
            .into_iter()
            .filter(|(k, _)| k != "_HANDLER")
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
    env.push((
        "_HANDLER".into(),
        std::ffi::OsStr::from_bytes(b"ech\xffo").to_owned(),
    ));
    let mut bootstrap = Bootstrap::spawn(&env);
    let message = the_init_error(&mut bootstrap, &api, "Runtime.NoSuchHandler").error_message();
    assert!(message.contains("ech\u{fffd}o"), "{message}");
    assert!(message.contains("fibonacci"), "{message}");
    assert_eq!(api.next_requests(), 0);
}
