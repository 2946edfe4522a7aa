//! Lambda Managed Instances: `AWS_LAMBDA_MAX_CONCURRENCY` = N runs N workers in one process,
//! each polling `/next` on its own connection and answering its own invocations. The fake API
//! counts the polls waiting at once and can hold answers back until several invocations are in
//! flight together, so each test shows real overlap rather than hoping for it.

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

use lambda_blocking_rt_tests::{
    Bootstrap, Endpoint, FakeApi, Fault, Invocation, PATIENCE, fixture, lambda_env, launch,
    test_binary_path,
};

/// The line the runtime logs once when it exits for a fatal Runtime API status.
const FATAL_LINE: &str = "the Runtime API failed";

/// Whether the binary `launch` runs for `handler` holds that handler. With
/// `$BOOTSTRAP_FUNCTIONS` (the packaged per-function builds, e.g. arm64 under qemu) a missing
/// build would silently run echo's instead, so the test skips itself, saying why.
fn has_handler(handler: &str) -> bool {
    let Some(dir) = std::env::var_os("BOOTSTRAP_FUNCTIONS") else {
        return true;
    };
    let binary = Path::new(&dir).join(handler).join("bootstrap");
    let found = binary.is_file();
    if !found {
        eprintln!("skipped: no {} to run", binary.display());
    }
    found
}

fn native_only() -> bool {
    // The user binaries of this test crate are built for the host only.
    std::env::var_os("BOOTSTRAP_FUNCTIONS").is_none()
}

/// A user's function from `tests/src/bin`, started with `AWS_LAMBDA_MAX_CONCURRENCY` = `workers`.
fn user_function(api: &FakeApi, name: &str, workers: &str) -> Bootstrap {
    let binary = test_binary_path(name);
    let env = lambda_env(api, "bootstrap", &[("AWS_LAMBDA_MAX_CONCURRENCY", workers)]);
    Bootstrap::spawn_binary(&binary, None, &env)
}

/// Waits until `n` polls wait at once; returns their connections, which must be `n` distinct.
fn wait_polls(api: &FakeApi, bootstrap: &Bootstrap, n: usize) -> HashSet<usize> {
    let connections: HashSet<usize> = api.wait_polls(n, PATIENCE).into_iter().collect();
    assert_eq!(
        connections.len(),
        n,
        "{n} polls waiting on {n} connections, got {connections:?}; stderr: {}",
        bootstrap.stderr()
    );
    connections
}

fn assert_each_answered_once(api: &FakeApi) {
    let (handed, wrong) = api.answer_counts();
    assert!(!handed.is_empty());
    assert!(
        wrong.is_empty(),
        "ids without exactly one accepted answer: {wrong:?}; posts: {:#?}",
        api.posts()
    );
}

fn fatal_lines(stderr: &str) -> usize {
    stderr.matches(FATAL_LINE).count()
}

#[test]
fn four_workers_hold_four_next_polls_at_once_each_on_its_own_kept_connection() {
    let api = FakeApi::start();
    let mut bootstrap = launch(&api, "echo", &[("AWS_LAMBDA_MAX_CONCURRENCY", "4")]);
    let first = wait_polls(&api, &bootstrap, 4);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(api.max_waiting_polls(), 4, "no more polls than workers");
    assert_eq!(api.next_requests(), 4);

    let ids = api.push_events((0..12).map(|i| format!("event {i}")));
    let answers = api.wait_answers(&ids, PATIENCE);
    for (i, answer) in answers.iter().enumerate() {
        assert_eq!(answer.body, format!("event {i}").as_bytes());
        assert!(first.contains(&answer.connection), "{answer:?}");
    }
    let again = wait_polls(&api, &bootstrap, 4);
    assert_eq!(again, first, "each worker keeps its connection");
    assert_eq!(api.connections(), 4, "no connection beyond one per worker");
    assert_each_answered_once(&api);
    assert!(bootstrap.is_running(), "{}", bootstrap.stderr());
}

#[test]
fn one_next_poll_at_a_time_when_max_concurrency_is_unset_or_1() {
    for workers in [None, Some("1")] {
        let api = FakeApi::start();
        let extra: Vec<(&str, &str)> = workers
            .map(|w| ("AWS_LAMBDA_MAX_CONCURRENCY", w))
            .into_iter()
            .collect();
        let mut bootstrap = launch(&api, "echo", &extra);
        wait_polls(&api, &bootstrap, 1);
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(api.max_waiting_polls(), 1, "{workers:?}");
        assert_eq!(api.next_requests(), 1, "{workers:?}");
        assert_eq!(api.connections(), 1, "{workers:?}");
        let ids = api.push_events([&b"served"[..]]);
        assert_eq!(api.wait_answers(&ids, PATIENCE)[0].body, b"served");
        assert!(
            bootstrap.is_running(),
            "{workers:?}: {}",
            bootstrap.stderr()
        );
    }
}

#[test]
fn eight_workers_answer_eight_400_ms_sleeps_in_well_under_their_sum() {
    if !has_handler("sleep") {
        return;
    }
    let api = FakeApi::start();
    let mut bootstrap = launch(&api, "sleep", &[("AWS_LAMBDA_MAX_CONCURRENCY", "8")]);
    wait_polls(&api, &bootstrap, 8);
    let started = Instant::now();
    let ids = api.push_events((0..8).map(|_| &br#"{"ms":400}"#[..]));
    let answers = api.wait_answers(&ids, PATIENCE);
    let took = started.elapsed();
    // One after another they take 3.2 s; together a little over 0.4 s.
    assert!(took < Duration::from_millis(2500), "took {took:?}");
    for answer in &answers {
        assert_eq!(answer.endpoint, Endpoint::Response);
        assert_eq!(answer.json(), serde_json::json!({"slept_ms": 400}));
    }
    assert_eq!(api.posts().len(), 8, "one answer each: {:#?}", api.posts());
    assert_each_answered_once(&api);
    assert!(bootstrap.is_running(), "{}", bootstrap.stderr());
}

#[test]
fn each_concurrent_invocation_sees_its_own_ids_and_no_trace_id_env() {
    if !has_handler("context") {
        return;
    }
    let cases: Vec<serde_json::Value> =
        serde_json::from_slice(&fixture("concurrent-contexts.json")).unwrap();
    let api = FakeApi::start();
    // A value inherited from the environment must not reach any invocation either.
    let bootstrap = launch(
        &api,
        "context",
        &[
            ("AWS_LAMBDA_MAX_CONCURRENCY", "8"),
            (
                "_X_AMZN_TRACE_ID",
                "Root=1-00000000-stale000000000000000000;Sampled=0",
            ),
        ],
    );
    wait_polls(&api, &bootstrap, 8);
    api.hold_answers(cases.len(), PATIENCE);
    let ids: Vec<String> = cases
        .iter()
        .map(|case| {
            api.push(
                Invocation::new("{}")
                    .header("Lambda-Runtime-Trace-Id", case["trace"].as_str().unwrap())
                    .header(
                        "Lambda-Runtime-Invocation-Id",
                        case["invocation"].as_str().unwrap(),
                    )
                    .header(
                        "Lambda-Runtime-Aws-Tenant-Id",
                        case["tenant"].as_str().unwrap(),
                    ),
            )
        })
        .collect();
    let answers = api.wait_answers(&ids, PATIENCE);
    assert_eq!(
        api.answers_held_together(),
        cases.len(),
        "all invocations in flight at once"
    );
    for ((answer, id), case) in answers.iter().zip(&ids).zip(&cases) {
        let body = answer.json();
        let ctx = &body["context"];
        assert_eq!(ctx["request_id"], id.as_str(), "{body}");
        assert_eq!(ctx["xray_trace_id"], case["trace"], "{body}");
        assert_eq!(ctx["invocation_id"], case["invocation"], "{body}");
        assert_eq!(ctx["tenant_id"], case["tenant"], "{body}");
        assert_eq!(
            answer.header("Lambda-Runtime-Invocation-Id"),
            case["invocation"].as_str(),
            "each answer carries its own invocation id"
        );
        assert_eq!(
            body["trace_id_env"],
            serde_json::Value::Null,
            "no worker sets _X_AMZN_TRACE_ID: {body}"
        );
    }
    assert_each_answered_once(&api);
}

#[test]
fn trace_id_env_follows_each_invocation_when_max_concurrency_is_1() {
    if !has_handler("context") {
        return;
    }
    let cases: Vec<serde_json::Value> =
        serde_json::from_slice(&fixture("concurrent-contexts.json")).unwrap();
    let trace = cases[0]["trace"].as_str().unwrap();
    let api = FakeApi::start();
    let traced = api.push(Invocation::new("{}").header("Lambda-Runtime-Trace-Id", trace));
    let untraced = api.push(Invocation::new("{}"));
    let _bootstrap = launch(&api, "context", &[("AWS_LAMBDA_MAX_CONCURRENCY", "1")]);
    let answers = api.wait_answers(&[traced, untraced], PATIENCE);
    assert_eq!(answers[0].json()["trace_id_env"], trace);
    assert_eq!(answers[1].json()["trace_id_env"], serde_json::Value::Null);
}

#[test]
fn a_panic_among_eight_concurrent_invocations_fails_only_that_one() {
    if !native_only() {
        return;
    }
    let events: Vec<serde_json::Value> =
        serde_json::from_slice(&fixture("mixed-events.json")).unwrap();
    let api = FakeApi::start();
    let mut function = user_function(&api, "mixed-fn", "8");
    wait_polls(&api, &function, 8);
    api.hold_answers(events.len(), PATIENCE);
    let ids = api.push_events(events.iter().map(|e| e.to_string()));
    let answers = api.wait_answers(&ids, PATIENCE);
    assert_eq!(
        api.answers_held_together(),
        events.len(),
        "all in flight at once"
    );
    for ((answer, id), event) in answers.iter().zip(&ids).zip(&events) {
        let name = event["name"].as_str().unwrap();
        if event["panic"] == true {
            assert_eq!(answer.endpoint, Endpoint::Error, "{answer:?}");
            assert_eq!(answer.error_type(), "Runtime.HandlerPanic");
            assert_eq!(
                answer.error_message(),
                format!("{name} panicked on purpose")
            );
            // Logged by the panic hook on the panicking worker: with that invocation's id.
            let logged = format!("[ERROR] {id} handler panicked at ");
            let (found, stderr) = function.wait_stderr(&logged, PATIENCE);
            assert!(found, "{stderr}");
        } else {
            assert_eq!(answer.endpoint, Endpoint::Response, "{answer:?}");
            assert_eq!(
                answer.json(),
                serde_json::json!({"name": name, "request_id": id})
            );
        }
    }
    assert_each_answered_once(&api);

    // Every worker, the one whose handler panicked included, goes back to polling and serves.
    wait_polls(&api, &function, 8);
    let after = api.push_events([&br#"{"name":"after"}"#[..]]);
    let answer = &api.wait_answers(&after, PATIENCE)[0];
    assert_eq!(answer.json()["name"], "after");
    assert!(function.is_running(), "{}", function.stderr());
}

#[test]
fn json_log_lines_carry_the_request_id_their_own_worker_serves() {
    if !has_handler("error") {
        return;
    }
    let api = FakeApi::start();
    let mut bootstrap = launch(
        &api,
        "error",
        &[
            ("AWS_LAMBDA_MAX_CONCURRENCY", "4"),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
            ("AWS_LAMBDA_LOG_LEVEL", "DEBUG"),
        ],
    );
    wait_polls(&api, &bootstrap, 4);
    // The first four are all in flight at once, so their log lines are written side by side.
    api.hold_answers(4, PATIENCE);
    let ids = api.push_events((0..12).map(|i| format!(r#"{{"message":"failure {i}"}}"#)));
    api.wait_answers(&ids, PATIENCE);
    assert_eq!(api.answers_held_together(), 4);
    let last = format!("invocation {} failed", ids[11]);
    let (logged, _) = bootstrap.wait_stderr(&last, PATIENCE);
    bootstrap.signal("TERM");
    bootstrap.wait_exit(PATIENCE).expect("exits on SIGTERM");
    let stderr = bootstrap.stderr();
    assert!(logged, "{stderr}");

    let mut failed = HashSet::new();
    for line in stderr.lines() {
        let record: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not one JSON object ({e}): {line}"));
        let message = record["message"].as_str().unwrap_or_default();
        for id in ids.iter().filter(|id| message.contains(id.as_str())) {
            assert_eq!(
                record["requestId"],
                id.as_str(),
                "a line about {id} names another request: {line}"
            );
        }
        if let Some(rest) = message.strip_prefix("invocation ") {
            let id = rest.split_whitespace().next().unwrap_or_default();
            assert!(failed.insert(id.to_owned()), "logged twice: {line}");
        }
    }
    let expected: HashSet<String> = ids.iter().cloned().collect();
    assert_eq!(
        failed, expected,
        "one 'failed' line per invocation: {stderr}"
    );
}

#[test]
fn a_fatal_next_answer_under_four_workers_exits_1_once_without_polling_again() {
    for (what, fatal) in [
        ("500", Invocation::new("{}").with_status(500)),
        ("403", Invocation::new("{}").with_status(403)),
        (
            "no request id",
            Invocation::new("{}").without_header("Lambda-Runtime-Aws-Request-Id"),
        ),
    ] {
        let api = FakeApi::start();
        let mut bootstrap = launch(&api, "echo", &[("AWS_LAMBDA_MAX_CONCURRENCY", "4")]);
        wait_polls(&api, &bootstrap, 4);
        let started = Instant::now();
        api.push(fatal);
        let status = bootstrap.wait_exit(PATIENCE).expect("the runtime exits");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{what}: exited after {:?}",
            started.elapsed()
        );
        assert_eq!(status.code(), Some(1), "{what}");
        let stderr = bootstrap.stderr();
        assert_eq!(fatal_lines(&stderr), 1, "{what}: {stderr}");
        assert_eq!(
            api.next_requests(),
            4,
            "{what}: no poll after the fatal answer"
        );
    }
}

#[test]
fn four_workers_refused_with_500_at_once_exit_1_with_one_log_line() {
    let api = FakeApi::start();
    let mut bootstrap = launch(&api, "echo", &[("AWS_LAMBDA_MAX_CONCURRENCY", "4")]);
    wait_polls(&api, &bootstrap, 4);
    for _ in 0..4 {
        api.inject(Endpoint::Response, Fault::Status(500));
    }
    api.hold_answers(4, PATIENCE);
    let started = Instant::now();
    api.push_events((0..4).map(|i| format!("event {i}")));
    let status = bootstrap.wait_exit(PATIENCE).expect("the runtime exits");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "exited after {:?}",
        started.elapsed()
    );
    assert_eq!(status.code(), Some(1));
    assert_eq!(api.answers_held_together(), 4, "four 500s at once");
    let stderr = bootstrap.stderr();
    assert_eq!(fatal_lines(&stderr), 1, "{stderr}");
    assert!(stderr.contains("HTTP 500"), "{stderr}");
    assert_eq!(api.next_requests(), 4, "no poll after the 500s");
    assert_eq!(
        api.posts().len(),
        4,
        "a 500 is not retried: {:#?}",
        api.posts()
    );
}

#[test]
fn sigterm_with_four_workers_runs_the_shutdown_hook_once_then_exits_0() {
    if !native_only() {
        return;
    }
    let api = FakeApi::start();
    let mut function = user_function(&api, "shutdown-hook-fn", "4");
    let ids = api.push_events([&b"served first"[..]]);
    assert_eq!(api.wait_answers(&ids, PATIENCE)[0].body, b"served first");
    wait_polls(&api, &function, 4);
    let sent = Instant::now();
    // A second signal while the hook runs must not run it again.
    function.signal("TERM");
    std::thread::sleep(Duration::from_millis(20));
    function.signal("TERM");
    let status = function.wait_exit(Duration::from_secs(5)).expect("exits");
    assert_eq!(status.code(), Some(0));
    assert!(
        sent.elapsed() < Duration::from_secs(2),
        "took {:?}",
        sent.elapsed()
    );
    assert_eq!(function.stdout(), "shutdown hook ran\n");
}

#[test]
fn sigterm_with_four_workers_busy_and_idle_exits_0_promptly() {
    if !has_handler("sleep") {
        return;
    }
    let api = FakeApi::start();
    let mut bootstrap = launch(&api, "sleep", &[("AWS_LAMBDA_MAX_CONCURRENCY", "4")]);
    wait_polls(&api, &bootstrap, 4);
    // Two workers in a long invocation, two waiting in their poll.
    api.push_events([&br#"{"ms":60000}"#[..], br#"{"ms":60000}"#]);
    let deadline = Instant::now() + PATIENCE;
    while api.answer_counts().0.len() < 2 {
        assert!(Instant::now() < deadline, "the sleeps were never taken");
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(100));
    let sent = Instant::now();
    bootstrap.signal("TERM");
    let status = bootstrap.wait_exit(Duration::from_secs(5)).expect("exits");
    assert_eq!(status.code(), Some(0));
    assert!(
        sent.elapsed() < Duration::from_secs(2),
        "took {:?}",
        sent.elapsed()
    );
}

/// Runs the bootstrap with `AWS_LAMBDA_MAX_CONCURRENCY=value`, which it must refuse: exit 2
/// before any request to the API. Returns what it wrote to stderr.
fn refused_max_concurrency(value: &str) -> String {
    let api = FakeApi::start();
    let mut bootstrap = launch(&api, "echo", &[("AWS_LAMBDA_MAX_CONCURRENCY", value)]);
    let status = bootstrap.wait_exit(PATIENCE).expect("exits");
    assert_eq!(status.code(), Some(2), "{value:?}: {}", bootstrap.stderr());
    // A connection made just before the exit is counted once the accept loop sees it.
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(api.connections(), 0, "{value:?}: no request to the API");
    bootstrap.stderr()
}

const UNUSABLE_MAX_CONCURRENCY: [&str; 3] = ["0", "four", "-2"];

#[test]
fn unusable_max_concurrency_exits_2_with_one_stderr_line_before_any_request() {
    for value in UNUSABLE_MAX_CONCURRENCY {
        let stderr = refused_max_concurrency(value);
        assert_eq!(stderr.lines().count(), 1, "{value:?}: one line: {stderr}");
        assert!(stderr.starts_with("error: "), "{value:?}: {stderr}");
    }
}

#[test]
fn the_stderr_line_for_an_unusable_max_concurrency_names_the_variable_and_its_value() {
    let unnamed: Vec<(&str, String)> = UNUSABLE_MAX_CONCURRENCY
        .into_iter()
        .map(|value| (value, refused_max_concurrency(value)))
        .filter(|(value, stderr)| {
            !(stderr.contains("AWS_LAMBDA_MAX_CONCURRENCY") && stderr.contains(value))
        })
        .collect();
    assert!(
        unnamed.is_empty(),
        "the line must say which variable is wrong and what it holds: {unnamed:?}"
    );
}

#[test]
fn connection_resets_under_four_workers_are_retried_and_each_invocation_is_answered_once() {
    let api = FakeApi::start();
    for fault in [
        Fault::ResetDuring,
        Fault::ResetAfterAnswer,
        Fault::ResetAfter,
        Fault::ResetAfterAnswer,
        Fault::ResetDuring,
    ] {
        api.inject(Endpoint::Next, fault);
    }
    for fault in [
        Fault::ResetDuring,
        Fault::ResetAfter,
        Fault::ResetAfterAnswer,
        Fault::ResetDuring,
        Fault::ResetAfter,
        Fault::ResetAfterAnswer,
    ] {
        api.inject(Endpoint::Response, fault);
    }
    let ids = api.push_events((0..24).map(|i| format!("event {i}")));
    let mut bootstrap = launch(&api, "echo", &[("AWS_LAMBDA_MAX_CONCURRENCY", "4")]);
    let answers = api.wait_answers(&ids, PATIENCE);
    for (i, answer) in answers.iter().enumerate() {
        assert_eq!(answer.body, format!("event {i}").as_bytes());
    }
    assert_eq!(api.pending_faults(), 0, "every fault triggered");
    assert_each_answered_once(&api);
    // Every worker survived its reset and polls again.
    wait_polls(&api, &bootstrap, 4);
    assert!(bootstrap.is_running(), "{}", bootstrap.stderr());
}
