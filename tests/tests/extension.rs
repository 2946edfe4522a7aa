//! The extensions crate against the fake Extensions and Telemetry APIs, its telemetry listener
//! against a real TCP client, and the shipped `invocation-summary` extension run as a process.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use lambda_blocking_ext::{
    Event, EventType, Extension, ExtensionError, ListenerConfig, PlatformRecord, Record,
    TelemetryEvent, TelemetryListener, TelemetryType,
};
use lambda_blocking_rt_tests::{
    Bootstrap, Endpoint, FakeApi, Fault, PATIENCE, extension_binary_path, fixture,
};

fn events() -> serde_json::Value {
    serde_json::from_slice(&fixture("telemetry/events.json")).unwrap()
}

fn push_event(api: &FakeApi, name: &str) {
    api.push_extension_event(serde_json::to_vec(&events()[name]).unwrap());
}

// --- the extensions crate ------------------------------------------------------------------------

#[test]
fn registration_names_the_extension_and_its_events_and_every_call_sends_the_identifier() {
    let api = FakeApi::start();
    let mut extension = Extension::register_at(
        &api.address(),
        "my-extension",
        &[EventType::Invoke, EventType::Shutdown],
    )
    .expect("registers");
    assert_eq!(extension.function().function_name, "test-function");
    let identifier = extension.identifier().to_owned();
    assert!(!identifier.is_empty());

    push_event(&api, "invoke");
    push_event(&api, "shutdown");
    match extension.next_event().expect("an event") {
        Event::Invoke(invoke) => {
            assert_eq!(invoke.request_id, "3da1f2dc-3222-475e-9205-e2e6c6318895");
            assert_eq!(invoke.deadline_ms, 1676051349000);
            assert!(invoke.tracing.is_some_and(|t| t.value.starts_with("Root=")));
        }
        other => panic!("{other:?}"),
    }
    match extension.next_event().expect("an event") {
        Event::Shutdown(shutdown) => assert_eq!(shutdown.shutdown_reason, "spindown"),
        other => panic!("{other:?}"),
    }
    extension.init_error("Extension.Broken", "cannot start");
    extension.exit_error("Extension.Gone", "going away");

    let requests = api.extension_requests();
    let endpoints: Vec<Endpoint> = requests.iter().map(|r| r.endpoint).collect();
    assert_eq!(
        endpoints,
        [
            Endpoint::ExtensionRegister,
            Endpoint::ExtensionNext,
            Endpoint::ExtensionNext,
            Endpoint::ExtensionInitError,
            Endpoint::ExtensionExitError
        ]
    );
    let register = &requests[0];
    assert_eq!(
        register.header("Lambda-Extension-Name"),
        Some("my-extension")
    );
    assert_eq!(
        register.json(),
        serde_json::json!({"events": ["INVOKE", "SHUTDOWN"]})
    );
    for request in &requests[1..] {
        assert_eq!(
            request.header("Lambda-Extension-Identifier"),
            Some(identifier.as_str()),
            "{}",
            request.path
        );
        assert!(
            request.accepted(),
            "{} answered {}",
            request.path,
            request.status
        );
    }
    let exit = &requests[4];
    assert_eq!(
        exit.header("Lambda-Extension-Function-Error-Type"),
        Some("Extension.Gone")
    );
    assert_eq!(exit.error_message(), "going away");
    assert_eq!(requests[3].error_type(), "Extension.Broken");
}

#[test]
fn a_refused_registration_is_an_error_with_its_status() {
    let api = FakeApi::start();
    api.inject(Endpoint::ExtensionRegister, Fault::Status(403));
    let error = Extension::register_at(&api.address(), "late", &[EventType::Invoke])
        .err()
        .expect("refused");
    assert_eq!(error.status(), Some(403), "{error}");
    let api = FakeApi::start();
    api.without_extensions_api();
    let error = Extension::register_at(&api.address(), "x", &[])
        .err()
        .expect("absent");
    assert_eq!(error.status(), Some(404), "{error}");
}

#[test]
fn an_event_that_is_not_one_is_an_error_and_the_next_one_is_read() {
    let api = FakeApi::start();
    let mut extension = Extension::register_at(&api.address(), "e", &[EventType::Invoke]).unwrap();
    api.push_extension_event(&b"{\"no\":\"type\"}"[..]);
    push_event(&api, "invoke");
    assert!(
        matches!(extension.next_event(), Err(ExtensionError::BadEvent { .. })),
        "not an event"
    );
    assert!(matches!(extension.next_event(), Ok(Event::Invoke(_))));
}

#[test]
fn a_telemetry_subscription_names_the_listener_and_the_buffering() {
    let api = FakeApi::start();
    let mut extension = Extension::register_at(&api.address(), "t", &[EventType::Invoke]).unwrap();
    let listener = start_listener(ListenerConfig::default(), |_| {});
    extension
        .subscribe_telemetry(
            &listener,
            &[TelemetryType::Platform, TelemetryType::Function],
        )
        .expect("subscribed");
    let requests = api.extension_requests();
    let put = requests
        .iter()
        .find(|r| r.endpoint == Endpoint::TelemetrySubscribe)
        .expect("a PUT /telemetry");
    assert_eq!(
        put.header("Lambda-Extension-Identifier"),
        Some(extension.identifier())
    );
    let body = put.json();
    assert_eq!(body["schemaVersion"], "2022-12-13");
    assert_eq!(body["types"], serde_json::json!(["platform", "function"]));
    assert_eq!(
        body["buffering"],
        serde_json::json!({"maxItems": 1000, "maxBytes": 262144, "timeoutMs": 100})
    );
    assert_eq!(
        body["destination"],
        serde_json::json!({"protocol": "HTTP", "URI": format!("http://sandbox.localdomain:{}/", listener.port())})
    );
}

// --- the telemetry listener, with a real TCP client ----------------------------------------------

/// A listener on an ephemeral loopback port with `config`'s limits.
fn start_listener(
    config: ListenerConfig,
    handle: impl FnMut(Vec<TelemetryEvent>) + Send + 'static,
) -> TelemetryListener {
    let config = ListenerConfig {
        address: "127.0.0.1:0".into(),
        ..config
    };
    TelemetryListener::start(config, handle).expect("the listener starts")
}

/// A listener whose batches arrive on the returned channel.
fn channel_listener(
    config: ListenerConfig,
) -> (TelemetryListener, mpsc::Receiver<Vec<TelemetryEvent>>) {
    let (sender, batches) = mpsc::channel();
    let listener = start_listener(config, move |events| {
        let _ = sender.send(events);
    });
    (listener, batches)
}

/// POSTs `body` to the listener, writing it in pieces of `piece` bytes with `pause` between
/// them; returns the answer's status line.
fn post(port: u16, body: &[u8], piece: usize, pause: Duration) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    let head = format!(
        "POST / HTTP/1.1\r\nHost: sandbox.localdomain\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    for chunk in body.chunks(piece.max(1)) {
        stream.write_all(chunk).unwrap();
        if !pause.is_zero() {
            std::thread::sleep(pause);
        }
    }
    read_status(&mut stream)
}

fn read_status(stream: &mut TcpStream) -> String {
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.lines().next().unwrap_or_default().to_owned()
}

fn report_ids(events: &[TelemetryEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.record {
            Record::Platform(PlatformRecord::Report(r)) => Some(r.request_id.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_batch_is_answered_200_and_handed_over_typed() {
    let (listener, batches) = channel_listener(ListenerConfig::default());
    let status = post(
        listener.port(),
        &fixture("telemetry/reports.json"),
        1 << 20,
        Duration::ZERO,
    );
    assert_eq!(status, "HTTP/1.1 200 OK");
    let events = batches.recv_timeout(PATIENCE).expect("a batch");
    assert_eq!(events.len(), 4);
    assert_eq!(
        report_ids(&events),
        [
            "6d68ca91-49c9-448d-89b8-7ca3e6dc66aa",
            "0c2a6d53-5b5a-4b9e-9d0f-3f1e0c6a7b21"
        ]
    );
    assert_eq!(events[2].event_type, "function");
    assert_eq!(events[1].raw["record"]["metrics"]["memorySizeMB"], 128);
}

#[test]
fn a_batch_larger_than_one_read_arrives_whole() {
    let (listener, batches) = channel_listener(ListenerConfig::default());
    let line = "x".repeat(1000);
    let batch: Vec<serde_json::Value> = (0..1500)
        .map(|i| serde_json::json!({"time": "t", "type": "function", "record": format!("{i} {line}")}))
        .collect();
    let body = serde_json::to_vec(&batch).unwrap();
    assert!(body.len() > 1_000_000);
    let status = post(listener.port(), &body, 7000, Duration::ZERO);
    assert_eq!(status, "HTTP/1.1 200 OK");
    let events = batches.recv_timeout(PATIENCE).expect("a batch");
    assert_eq!(events.len(), 1500);
    assert_eq!(events[1499].raw["record"], format!("1499 {line}"));
}

#[test]
fn a_malformed_batch_is_answered_and_dropped_and_the_next_one_arrives() {
    let (listener, batches) = channel_listener(ListenerConfig::default());
    for malformed in [
        &b"[{\"type\": \"function\", "[..],
        b"{\"not\": \"an array\"}",
    ] {
        let status = post(listener.port(), malformed, 1024, Duration::ZERO);
        assert_eq!(status, "HTTP/1.1 200 OK");
    }
    post(
        listener.port(),
        &fixture("telemetry/reports.json"),
        1024,
        Duration::ZERO,
    );
    let events = batches.recv_timeout(PATIENCE).expect("the good batch");
    assert_eq!(
        report_ids(&events).len(),
        2,
        "the first batch handed over is the good one"
    );
}

#[test]
fn requests_that_are_not_batches_within_the_limits_are_refused() {
    let config = ListenerConfig {
        max_body_bytes: 1000,
        ..ListenerConfig::default()
    };
    let (listener, batches) = channel_listener(config);
    let status = post(listener.port(), &[b' '; 1001], 1024, Duration::ZERO);
    assert_eq!(status, "HTTP/1.1 413 Content Too Large");
    let mut stream = TcpStream::connect(("127.0.0.1", listener.port())).unwrap();
    stream
        .write_all(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
        .unwrap();
    assert_eq!(read_status(&mut stream), "HTTP/1.1 411 Length Required");
    let mut stream = TcpStream::connect(("127.0.0.1", listener.port())).unwrap();
    stream
        .write_all(format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "h".repeat(20_000)).as_bytes())
        .unwrap();
    assert_eq!(
        read_status(&mut stream),
        "HTTP/1.1 431 Request Header Fields Too Large"
    );
    post(listener.port(), b"[]", 1024, Duration::ZERO);
    assert_eq!(batches.recv_timeout(PATIENCE).expect("still listening"), []);
}

#[test]
fn a_slow_batch_arrives_whole_and_a_stalled_one_is_dropped_without_stopping_the_listener() {
    let config = ListenerConfig {
        read_timeout: Duration::from_millis(1500),
        ..ListenerConfig::default()
    };
    let (listener, batches) = channel_listener(config);
    let port = listener.port();
    // Slow: 40 pieces 10 ms apart, each well within the read timeout.
    let status = post(
        port,
        &fixture("telemetry/reports.json"),
        25,
        Duration::from_millis(10),
    );
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(
        report_ids(&batches.recv_timeout(PATIENCE).unwrap()).len(),
        2
    );
    // Stalled: half a body, then nothing; dropped at the read timeout, unanswered.
    let mut stalled = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stalled
        .write_all(b"POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n[{\"type\":")
        .unwrap();
    let started = Instant::now();
    let status = post(
        port,
        &fixture("telemetry/reports.json"),
        1 << 20,
        Duration::ZERO,
    );
    assert_eq!(status, "HTTP/1.1 200 OK", "served after the stalled one");
    assert_eq!(
        report_ids(&batches.recv_timeout(PATIENCE).unwrap()).len(),
        2
    );
    assert!(started.elapsed() < PATIENCE);
    assert_eq!(
        read_status(&mut stalled),
        "",
        "the stalled request gets no answer"
    );
    assert!(
        batches.try_recv().is_err(),
        "nothing of the stalled one handed over"
    );
}

// --- invocation-summary, the shipped extension ---------------------------------------------------

/// Starts `invocation-summary` against `api`, its listener on an ephemeral loopback port.
fn start_summary(api: &FakeApi) -> Bootstrap {
    let binary = extension_binary_path("invocation-summary");
    let address = api.address();
    let env = [
        ("AWS_LAMBDA_RUNTIME_API", address.as_str()),
        ("INVOCATION_SUMMARY_LISTEN", "127.0.0.1:0"),
    ];
    // `$BOOTSTRAP_RUNNER` (qemu) runs a packaged arm64 build, as for the functions.
    let runner = std::env::var_os("BOOTSTRAP_RUNNER").filter(|r| !r.is_empty());
    Bootstrap::spawn_binary(&binary, runner.as_deref(), &env)
}

/// The listener's port, from the subscription's destination URI.
fn subscribed_port(api: &FakeApi) -> u16 {
    let requests = api.wait_extension_requests(PATIENCE, |r| {
        r.iter().any(|r| r.endpoint == Endpoint::TelemetrySubscribe)
    });
    let put = requests
        .iter()
        .find(|r| r.endpoint == Endpoint::TelemetrySubscribe)
        .expect("subscribed to telemetry");
    assert_eq!(put.json()["types"], serde_json::json!(["platform"]));
    let uri = put.json()["destination"]["URI"]
        .as_str()
        .unwrap()
        .to_owned();
    uri.trim_end_matches('/')
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {uri}"))
}

#[test]
fn invocation_summary_prints_a_line_per_report_and_exits_0_on_shutdown() {
    let api = FakeApi::start();
    let mut summary = start_summary(&api);
    let port = subscribed_port(&api);
    let register = &api.extension_requests()[0];
    assert_eq!(
        register.header("Lambda-Extension-Name"),
        Some("invocation-summary")
    );
    assert_eq!(
        register.json(),
        serde_json::json!({"events": ["INVOKE", "SHUTDOWN"]})
    );
    push_event(&api, "invoke");
    let status = post(
        port,
        &fixture("telemetry/reports.json"),
        1 << 20,
        Duration::ZERO,
    );
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(
        api.wait_extension_polls(1, PATIENCE),
        "back to /event/next after INVOKE"
    );
    push_event(&api, "shutdown");
    let exit = summary.wait_exit(PATIENCE).expect("exits on SHUTDOWN");
    assert_eq!(exit.code(), Some(0), "stderr: {}", summary.stderr());
    assert_eq!(
        summary.stdout(),
        "SUMMARY requestId=6d68ca91-49c9-448d-89b8-7ca3e6dc66aa durationMs=2.75 billedMs=3 maxMemoryMB=14 initMs=11.5\n\
         SUMMARY requestId=0c2a6d53-5b5a-4b9e-9d0f-3f1e0c6a7b21 durationMs=1 billedMs=1 maxMemoryMB=15\n"
    );
    let polls = api
        .extension_requests()
        .iter()
        .filter(|r| r.endpoint == Endpoint::ExtensionNext)
        .count();
    assert_eq!(polls, 2, "INVOKE, then SHUTDOWN");
}

#[test]
fn invocation_summary_exits_1_with_one_line_when_it_cannot_register() {
    let api = FakeApi::start();
    api.inject(Endpoint::ExtensionRegister, Fault::Status(500));
    let mut summary = start_summary(&api);
    let exit = summary.wait_exit(PATIENCE).expect("exits");
    assert_eq!(exit.code(), Some(1));
    let stderr = summary.stderr();
    assert_eq!(stderr.lines().count(), 1, "stderr: {stderr}");
    assert!(
        stderr.starts_with("invocation-summary: could not register") && stderr.contains("500"),
        "stderr: {stderr}"
    );
    assert_eq!(summary.stdout(), "");
}

#[test]
fn invocation_summary_reports_exit_error_when_its_event_loop_breaks() {
    let api = FakeApi::start();
    api.inject(Endpoint::ExtensionNext, Fault::Status(500));
    let mut summary = start_summary(&api);
    let exit = summary.wait_exit(PATIENCE).expect("exits");
    assert_eq!(exit.code(), Some(1), "stderr: {}", summary.stderr());
    let requests = api.extension_requests();
    let exit_error = requests
        .iter()
        .find(|r| r.endpoint == Endpoint::ExtensionExitError)
        .unwrap_or_else(|| panic!("no /exit/error: {requests:#?}"));
    assert_eq!(
        exit_error.header("Lambda-Extension-Function-Error-Type"),
        Some("Extension.EventLoopBroken")
    );
    assert!(exit_error.error_message().contains("500"));
    assert!(summary.stderr().contains("the event loop broke"));
}
