//! Log output: quiet by default, one JSON object per line when Lambda asks for JSON.

use lambda_blocking_rt_tests::{FakeApi, PATIENCE, launch};

#[test]
fn nothing_is_logged_per_invocation_at_the_default_level() {
    let api = FakeApi::start();
    let ids = api.push_events((0..20).map(|i| format!("event {i}")));
    let mut bootstrap = launch(&api, "echo", &[]);
    api.wait_answers(&ids, PATIENCE);
    let errors = api.push_events([&br#"{"n":"x"}"#[..]]);
    api.wait_answers(&errors, PATIENCE);
    // End the process so everything it wrote has been collected.
    bootstrap.signal("TERM");
    bootstrap.wait_exit(PATIENCE).expect("exits on SIGTERM");
    assert_eq!(bootstrap.stderr(), "");
    assert_eq!(bootstrap.stdout(), "");
}

#[test]
fn json_log_format_writes_one_json_object_per_line_with_the_request_id() {
    let api = FakeApi::start();
    let ids = api.push_events([&br#"{"message":"line one\nline two"}"#[..]]);
    let bootstrap = launch(&api, "panic", &[("AWS_LAMBDA_LOG_FORMAT", "JSON")]);
    api.wait_answers(&ids, PATIENCE);
    let (_, stderr) = bootstrap.wait_stderr("\n", PATIENCE);
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(!lines.is_empty(), "the panic is logged");
    for line in lines {
        let record: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert_eq!(record["level"], "ERROR");
        assert_eq!(record["requestId"], ids[0].as_str());
        assert!(
            record["message"]
                .as_str()
                .unwrap()
                .contains("line one\nline two")
        );
        let timestamp = record["timestamp"].as_str().unwrap();
        assert!(
            timestamp.len() == 24 && timestamp.ends_with('Z'),
            "{timestamp}"
        );
    }
}

#[test]
fn lambda_log_level_debug_shows_handler_errors() {
    let api = FakeApi::start();
    let ids = api.push_events([&br#"{"message":"visible"}"#[..]]);
    let bootstrap = launch(
        &api,
        "error",
        &[
            ("AWS_LAMBDA_LOG_LEVEL", "DEBUG"),
            ("AWS_LAMBDA_LOG_FORMAT", "Text"),
        ],
    );
    api.wait_answers(&ids, PATIENCE);
    let expected = format!(
        "[DEBUG] {} invocation {} failed: DemoError: visible",
        ids[0], ids[0]
    );
    let (logged, stderr) = bootstrap.wait_stderr(&expected, PATIENCE);
    assert!(logged, "{stderr}");
}
