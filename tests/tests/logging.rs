//! Log output: quiet by default, one JSON object per line when Lambda asks for JSON.

use lambda_blocking_rt_tests::{Endpoint, FakeApi, Fault, Invocation, PATIENCE, launch};

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

#[test]
fn json_log_lines_carry_the_tenant_id_when_the_invocation_has_one() {
    let api = FakeApi::start();
    let id = api.push(
        Invocation::new(r#"{"message":"tenant says hi"}"#)
            .header("Lambda-Runtime-Aws-Tenant-Id", "tenant-42"),
    );
    let bootstrap = launch(&api, "panic", &[("AWS_LAMBDA_LOG_FORMAT", "json")]);
    api.wait_answers(std::slice::from_ref(&id), PATIENCE);
    let (_, stderr) = bootstrap.wait_stderr("tenant says hi", PATIENCE);
    let line = stderr
        .lines()
        .find(|l| l.contains("tenant says hi"))
        .unwrap_or_else(|| panic!("no panic line: {stderr}"));
    let record: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(record["requestId"], id.as_str());
    assert_eq!(record["tenantId"], "tenant-42");
}

#[test]
fn trace_level_never_dumps_event_or_response_bodies() {
    // At TRACE, the HTTP client hex-dumps every body it sends and receives: customer data that
    // must not reach the logs unless RUST_LOG asks for the client's records by name.
    let secret = "card-4111-1111-1111-1111";
    let api = FakeApi::start();
    let ids = api.push_events([format!(r#"{{"secret":"{secret}"}}"#)]);
    let mut bootstrap = launch(&api, "echo", &[("AWS_LAMBDA_LOG_LEVEL", "TRACE")]);
    api.wait_answers(&ids, PATIENCE);
    bootstrap.signal("TERM");
    bootstrap.wait_exit(PATIENCE).expect("exits on SIGTERM");
    let stderr = bootstrap.stderr();
    assert!(!stderr.contains(secret), "{stderr}");
    assert!(!stderr.contains("Request {"), "{stderr}");

    // Asked for by name, the client's records are there: a line per request and its status,
    // no body (the runtime's requests no longer go through ureq, whose records these were).
    let api = FakeApi::start();
    let ids = api.push_events([&b"{}"[..]]);
    let bootstrap = launch(
        &api,
        "error",
        &[("RUST_LOG", "info,lambda_blocking_rt::client=debug")],
    );
    api.wait_answers(&ids, PATIENCE);
    let (found, stderr) = bootstrap.wait_stderr("/error: HTTP 202", PATIENCE);
    assert!(found, "the client's records: {stderr}");
    let (found, stderr) = bootstrap.wait_stderr("GET /runtime/invocation/next: HTTP 200", PATIENCE);
    assert!(found, "the runtime's own client records: {stderr}");
}

#[test]
fn a_fatal_exit_says_why_on_stderr_even_when_logging_is_off() {
    // RUST_LOG=off silences the logger; the one line that explains the exit still appears.
    let api = FakeApi::start();
    api.inject(Endpoint::Next, Fault::Status(500));
    let mut bootstrap = launch(&api, "echo", &[("RUST_LOG", "off")]);
    let status = bootstrap.wait_exit(PATIENCE).expect("exits");
    assert_eq!(status.code(), Some(1));
    let stderr = bootstrap.stderr();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: the Runtime API failed") && stderr.contains("HTTP 500"),
        "{stderr}"
    );
}

#[test]
fn text_log_lines_cannot_be_forged_by_a_newline_in_a_panic_message() {
    let api = FakeApi::start();
    let ids =
        api.push_events([&br#"{"message":"boom\n[ERROR] forged line\r\n[INFO] another"}"#[..]]);
    let bootstrap = launch(&api, "panic", &[]);
    api.wait_answers(&ids, PATIENCE);
    let (logged, stderr) = bootstrap.wait_stderr("boom", PATIENCE);
    assert!(logged, "the panic is logged: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one record, one line: {stderr}");
    assert!(lines[0].starts_with("[ERROR]"), "{stderr}");
    assert!(
        lines[0].contains(r"boom\n[ERROR] forged line\r\n[INFO] another"),
        "{stderr}"
    );
}
