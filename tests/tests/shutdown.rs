//! Graceful shutdown on SIGTERM and SIGINT, and the deadline as a handler sees it.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lambda_blocking_rt_tests::{
    Bootstrap, Endpoint, FakeApi, Fault, Invocation, PATIENCE, lambda_env, launch, test_binary_path,
};

/// Waits until the runtime is idle in its `/next` long poll.
fn wait_polling(api: &FakeApi, polls: usize) {
    let start = Instant::now();
    while api.next_requests() < polls {
        assert!(start.elapsed() < PATIENCE, "the runtime never polled /next");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn sigterm_while_waiting_for_an_event_exits_0_promptly() {
    for signal in ["TERM", "INT"] {
        let api = FakeApi::start();
        let mut bootstrap = launch(&api, "echo", &[]);
        wait_polling(&api, 1);
        let sent = Instant::now();
        bootstrap.signal(signal);
        let status = bootstrap.wait_exit(Duration::from_secs(5)).expect("exits");
        assert_eq!(status.code(), Some(0), "SIG{signal}");
        assert!(
            sent.elapsed() < Duration::from_secs(2),
            "SIG{signal} took {:?}",
            sent.elapsed()
        );
    }
}

#[test]
fn sigterm_runs_the_user_shutdown_hook_then_exits_0() {
    let binary = test_binary_path("shutdown-hook-fn");
    for signal in ["TERM", "INT"] {
        let api = FakeApi::start();
        let ids = api.push_events([&b"served first"[..]]);
        let mut function = Bootstrap::spawn_binary(&binary, None, &lambda_env(&api, "", &[]));
        assert_eq!(api.wait_answers(&ids, PATIENCE)[0].body, b"served first");
        wait_polling(&api, 2);
        let sent = Instant::now();
        function.signal(signal);
        let status = function.wait_exit(Duration::from_secs(5)).expect("exits");
        assert_eq!(status.code(), Some(0), "SIG{signal}");
        assert!(
            sent.elapsed() < Duration::from_secs(2),
            "SIG{signal} took {:?}",
            sent.elapsed()
        );
        assert_eq!(
            function.stdout(),
            "shutdown hook ran\n",
            "SIG{signal}: the hook ran to its end"
        );
    }
}

/// Starts the user's function with a shutdown hook against `api`; `extra` adds variables.
fn start_hooked(api: &FakeApi, extra: &[(&str, &str)]) -> Bootstrap {
    let binary = test_binary_path("shutdown-hook-fn");
    Bootstrap::spawn_binary(&binary, None, &lambda_env(api, "", extra))
}

/// SIGTERM, then: exit code 0 and the hook's line on stdout.
fn assert_sigterm_runs_the_hook(function: &mut Bootstrap) {
    function.signal("TERM");
    let status = function.wait_exit(Duration::from_secs(5)).expect("exits");
    assert_eq!(status.code(), Some(0), "stderr: {}", function.stderr());
    assert_eq!(function.stdout(), "shutdown hook ran\n");
}

#[test]
fn a_shutdown_hook_registers_an_internal_extension_before_the_first_next_and_keeps_it_polling() {
    let api = FakeApi::start();
    let mut function = start_hooked(&api, &[]);
    // The fake hands out no invocation before every registered extension polled (Init is
    // over only then), so these being answered also says the extension polled.
    let requests = api.wait_extension_requests(PATIENCE, |r| r.len() >= 2);
    let register = &requests[0];
    assert_eq!(
        register.endpoint,
        Endpoint::ExtensionRegister,
        "{requests:#?}"
    );
    assert_eq!(register.status, 200);
    assert_eq!(
        register.next_polls_before, 0,
        "registered after the first /runtime/invocation/next"
    );
    assert_eq!(
        register.header("Lambda-Extension-Name"),
        Some("lambda-blocking-rt-shutdown")
    );
    assert_eq!(register.json(), serde_json::json!({"events": []}));
    let poll = &requests[1];
    assert_eq!(poll.endpoint, Endpoint::ExtensionNext);
    let identifier = format!("ext-0001-{}", std::process::id());
    assert_eq!(
        poll.header("Lambda-Extension-Identifier"),
        Some(identifier.as_str())
    );
    assert_eq!(poll.status, 200, "the fake knew the identifier");

    // Invocations are served while `/event/next` is held, and it is asked only once.
    assert!(api.wait_extension_polls(1, PATIENCE), "the poll is held");
    let ids = api.push_events([&b"one"[..], b"two", b"three"]);
    let answers = api.wait_answers(&ids, PATIENCE);
    assert_eq!(answers[2].body, b"three");
    assert_eq!(api.extension_requests().len(), 2, "no other extension call");
    let (_, wrong) = api.answer_counts();
    assert!(wrong.is_empty(), "{wrong:?}");

    assert_sigterm_runs_the_hook(&mut function);
}

#[test]
fn without_an_extensions_api_a_hooked_function_serves_as_before_with_one_debug_line() {
    let api = FakeApi::start();
    api.without_extensions_api();
    let mut function = start_hooked(&api, &[("AWS_LAMBDA_LOG_LEVEL", "DEBUG")]);
    let ids = api.push_events([&b"served"[..]]);
    assert_eq!(api.wait_answers(&ids, PATIENCE)[0].body, b"served");
    wait_polling(&api, 2);
    let requests = api.extension_requests();
    assert_eq!(requests.len(), 1, "registration only: {requests:#?}");
    assert_eq!(requests[0].status, 404);
    let stderr = function.stderr();
    assert_eq!(
        stderr.matches("no Extensions API here").count(),
        1,
        "stderr: {stderr}"
    );
    assert!(stderr.contains("DEBUG"), "stderr: {stderr}");
    assert!(!stderr.contains("WARN"), "stderr: {stderr}");
    // Locally a signal still runs the hook.
    assert_sigterm_runs_the_hook(&mut function);
}

#[test]
fn a_refused_registration_is_a_warning_and_the_function_serves() {
    let api = FakeApi::start();
    api.inject(Endpoint::ExtensionRegister, Fault::Status(500));
    let mut function = start_hooked(&api, &[]);
    let ids = api.push_events([&b"served"[..]]);
    assert_eq!(api.wait_answers(&ids, PATIENCE)[0].body, b"served");
    let (warned, stderr) = function.wait_stderr("could not register", PATIENCE);
    assert!(warned, "stderr: {stderr}");
    assert!(stderr.contains("HTTP 500"), "stderr: {stderr}");
    assert_sigterm_runs_the_hook(&mut function);
}

#[test]
fn a_function_without_a_hook_registers_no_extension() {
    let api = FakeApi::start();
    let ids = api.push_events([&b"a"[..], b"b"]);
    let _function = launch(&api, "echo", &[]);
    api.wait_answers(&ids, PATIENCE);
    wait_polling(&api, 3);
    assert_eq!(api.extension_requests().len(), 0);
}

#[test]
fn handler_can_ask_how_much_time_it_has_left() {
    let api = FakeApi::start();
    let deadline = SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + Duration::from_secs(30);
    let id = api.push(Invocation::new("{}").header(
        "Lambda-Runtime-Deadline-Ms",
        &deadline.as_millis().to_string(),
    ));
    let past = api.push(Invocation::new("{}").header("Lambda-Runtime-Deadline-Ms", "1000"));
    let _bootstrap = launch(&api, "context", &[]);
    let answers = api.wait_answers(&[id, past], PATIENCE);
    let left = answers[0].json()["remaining_ms"].as_u64().unwrap();
    assert!(
        (20_000..=30_000).contains(&left),
        "remaining {left} ms of 30 s"
    );
    assert_eq!(
        answers[1].json()["remaining_ms"],
        0,
        "a passed deadline leaves nothing"
    );
}
