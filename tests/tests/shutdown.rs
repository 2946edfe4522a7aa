//! Graceful shutdown on SIGTERM and SIGINT, and the deadline as a handler sees it.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lambda_blocking_rt_tests::{
    Bootstrap, FakeApi, Invocation, PATIENCE, lambda_env, launch, test_binary_path,
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
