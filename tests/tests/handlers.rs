//! Every shipped handler, through the real bootstrap and the fake Runtime API.

use lambda_blocking_rt_tests::{
    Bootstrap, Endpoint, FakeApi, Invocation, PATIENCE, fixture, function_binary_path, lambda_env,
    launch,
};

#[test]
fn one_function_binary_serves_its_handler_whatever_handler_says() {
    // Lambda passes the function's Handler setting as _HANDLER: `bootstrap` is the usual value
    // (cargo lambda deploy sets it), and a one-handler binary must not refuse it.
    let binary = function_binary_path("fibonacci");
    let runner = std::env::var_os("BOOTSTRAP_RUNNER").filter(|r| !r.is_empty());
    for setting in ["bootstrap", "index.handler", "", "fibonacci"] {
        let api = FakeApi::start();
        let ids = api.push_events([&br#"{"n":10}"#[..]]);
        let env = lambda_env(&api, setting, &[]);
        let mut process = Bootstrap::spawn_binary(&binary, runner.as_deref(), &env);
        let answers = api.wait_answers(&ids, PATIENCE);
        assert_eq!(answers[0].json()["result"], 55, "_HANDLER={setting:?}");
        assert!(
            process.is_running(),
            "_HANDLER={setting:?}: {}",
            process.stderr()
        );
        assert!(
            api.posts()
                .iter()
                .all(|p| p.endpoint != Endpoint::InitError),
            "_HANDLER={setting:?}: {:?}",
            api.posts()
        );
    }
}

#[test]
fn echo_returns_every_event_byte_for_byte() {
    let api = FakeApi::start();
    let events: Vec<Vec<u8>> = vec![
        br#"{"hello":"world"}"#.to_vec(),
        b"plain text, not JSON".to_vec(),
        Vec::new(),
        fixture("non-utf8.bin"),
    ];
    let ids = api.push_events(events.clone());
    let mut bootstrap = launch(&api, "echo", &[]);
    let answers = api.wait_answers(&ids, PATIENCE);
    for (answer, event) in answers.iter().zip(&events) {
        assert_eq!(answer.endpoint, Endpoint::Response);
        assert_eq!(&answer.body, event);
    }
    assert!(bootstrap.is_running(), "the loop keeps serving");
}

#[test]
fn empty_handler_setting_selects_echo() {
    let api = FakeApi::start();
    let ids = api.push_events([&b"unset"[..]]);
    let _bootstrap = launch(&api, "", &[]);
    assert_eq!(api.wait_answers(&ids, PATIENCE)[0].body, b"unset");
}

#[test]
fn fibonacci_answers_valid_input_and_rejects_the_rest_without_panicking() {
    let api = FakeApi::start();
    let ids = api.push_events([
        &br#"{"n":35}"#[..],
        br#"{"n":0}"#,
        br#"{"n":93}"#,
        br#"{"n":94}"#,
        br#"{"n":-1}"#,
        br#"{"n":"35"}"#,
        b"not json",
        b"",
    ]);
    let mut bootstrap = launch(&api, "fibonacci", &[]);
    let answers = api.wait_answers(&ids, PATIENCE);
    assert_eq!(
        answers[0].json(),
        serde_json::json!({"n": 35, "result": 9227465})
    );
    assert_eq!(answers[1].json(), serde_json::json!({"n": 0, "result": 0}));
    assert_eq!(
        answers[2].json(),
        serde_json::json!({"n": 93, "result": 12200160415121876738u64})
    );
    for bad in &answers[3..] {
        assert_eq!(bad.endpoint, Endpoint::Error, "{bad:?}");
        assert_eq!(bad.error_type(), "InvalidInput");
        assert_eq!(
            bad.header("Lambda-Runtime-Function-Error-Type"),
            Some("InvalidInput")
        );
    }
    assert!(
        answers[3].error_message().contains("too large"),
        "{}",
        answers[3].error_message()
    );
    assert!(bootstrap.is_running());
    assert!(
        !bootstrap.stderr().contains("panicked"),
        "{}",
        bootstrap.stderr()
    );
}

#[test]
fn error_handler_reports_demo_error_with_the_event_message() {
    let api = FakeApi::start();
    let ids = api.push_events([&br#"{"message":"card declined"}"#[..], b"no message here"]);
    let _bootstrap = launch(&api, "error", &[]);
    let answers = api.wait_answers(&ids, PATIENCE);
    for answer in &answers {
        assert_eq!(answer.endpoint, Endpoint::Error);
        assert_eq!(answer.error_type(), "DemoError");
        assert_eq!(
            answer.header("Lambda-Runtime-Function-Error-Type"),
            Some("DemoError")
        );
        assert_eq!(answer.header("content-type"), Some("application/json"));
        assert_eq!(answer.json()["stackTrace"], serde_json::json!([]));
    }
    assert_eq!(answers[0].error_message(), "card declined");
    assert_eq!(answers[1].error_message(), "the error handler always fails");
}

#[test]
fn context_handler_sees_headers_and_environment() {
    let api = FakeApi::start();
    let trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
    let with_all = Invocation::new("{}")
        .header("Lambda-Runtime-Trace-Id", trace)
        .header(
            "Lambda-Runtime-Client-Context",
            &String::from_utf8(fixture("client-context.json")).unwrap(),
        )
        .header(
            "Lambda-Runtime-Cognito-Identity",
            &String::from_utf8(fixture("cognito-identity.json")).unwrap(),
        )
        .header("Lambda-Runtime-Aws-Tenant-Id", "tenant-42")
        .header("Lambda-Runtime-Deadline-Ms", "4102444800000");
    let first = api.push(with_all);
    let second = api.push(Invocation::new("{}"));
    let _bootstrap = launch(&api, "context", &[]);
    let answers = api.wait_answers(&[first.clone(), second.clone()], PATIENCE);

    let a = answers[0].json();
    let ctx = &a["context"];
    assert_eq!(ctx["request_id"], first.as_str());
    assert_eq!(ctx["deadline_ms"], 4102444800000u64);
    assert_eq!(
        ctx["invoked_function_arn"],
        "arn:aws:lambda:us-east-1:123456789012:function:test"
    );
    assert_eq!(ctx["xray_trace_id"], trace);
    assert_eq!(
        ctx["client_context"],
        serde_json::from_slice::<serde_json::Value>(&fixture("client-context.json")).unwrap()
    );
    assert_eq!(ctx["identity"]["cognitoIdentityId"], "us-east-1:1234");
    assert_eq!(ctx["tenant_id"], "tenant-42");
    assert_eq!(ctx["function_name"], "test-function");
    assert_eq!(ctx["memory_size_mb"], 128);
    assert_eq!(ctx["function_version"], "$LATEST");
    assert_eq!(ctx["log_group_name"], "/aws/lambda/test-function");
    assert_eq!(
        ctx["log_stream_name"],
        "2026/11/22/[$LATEST]0123456789abcdef"
    );
    assert_eq!(ctx["region"], "eu-west-1");
    assert_eq!(ctx["initialization_type"], "on-demand");
    assert_eq!(
        a["trace_id_env"], trace,
        "_X_AMZN_TRACE_ID is set during the invocation"
    );

    let b = answers[1].json();
    assert_eq!(b["context"]["request_id"], second.as_str());
    assert_eq!(b["context"]["xray_trace_id"], serde_json::Value::Null);
    assert_eq!(b["context"]["client_context"], serde_json::Value::Null);
    assert_eq!(b["context"]["tenant_id"], serde_json::Value::Null);
    assert_eq!(
        b["trace_id_env"],
        serde_json::Value::Null,
        "the previous trace id must not leak"
    );
}

#[test]
fn hello_answers_an_http_api_event() {
    let api = FakeApi::start();
    let ids = api.push_events([
        fixture("hello-http-api-event.json"),
        fixture("hello-no-query-event.json"),
    ]);
    let _bootstrap = launch(&api, "hello", &[]);
    let answers = api.wait_answers(&ids, PATIENCE);
    let expected: serde_json::Value =
        serde_json::from_slice(&fixture("hello-expected-response.json")).unwrap();
    assert_eq!(answers[0].json(), expected);
    let body: serde_json::Value =
        serde_json::from_str(answers[1].json()["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["message"], "hello, world");
}

#[test]
fn event_that_does_not_deserialize_is_an_invalid_event_and_the_loop_goes_on() {
    let api = FakeApi::start();
    let ids = api.push_events([
        &br#"{"queryStringParameters": 7}"#[..],
        b"{",
        &fixture("hello-http-api-event.json"),
    ]);
    let _bootstrap = launch(&api, "hello", &[]);
    let answers = api.wait_answers(&ids, PATIENCE);
    for bad in &answers[..2] {
        assert_eq!(bad.endpoint, Endpoint::Error);
        assert_eq!(bad.error_type(), "Runtime.InvalidEvent");
        assert_eq!(
            bad.header("Lambda-Runtime-Function-Error-Type"),
            Some("Runtime.InvalidEvent")
        );
        assert!(
            bad.error_message().contains("line 1 column"),
            "says where: {}",
            bad.error_message()
        );
    }
    assert!(
        answers[0].error_message().contains("invalid type"),
        "{}",
        answers[0].error_message()
    );
    assert_eq!(answers[2].endpoint, Endpoint::Response);
}
