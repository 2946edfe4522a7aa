//! The HTTP side: address forms, large and odd payloads, the long poll, lost connections.

use std::time::{Duration, Instant};

use lambda_blocking_rt_tests::{Endpoint, FakeApi, Fault, Invocation, PATIENCE, launch};

#[test]
fn url_form_of_the_address_with_a_path_prefix_is_used() {
    let api = FakeApi::start();
    let ids = api.push_events([&b"via prefix"[..]]);
    let url = format!("http://{}/.rt/my-fn/", api.address());
    let _bootstrap = launch(&api, "echo", &[("AWS_LAMBDA_RUNTIME_API", &url)]);
    let answers = api.wait_answers(&ids, PATIENCE);
    assert_eq!(answers[0].body, b"via prefix");
    assert!(
        answers[0]
            .path
            .starts_with("/.rt/my-fn/2018-06-01/runtime/invocation/"),
        "{}",
        answers[0].path
    );
}

#[test]
fn five_mib_payload_round_trips_intact() {
    let api = FakeApi::start();
    let payload: Vec<u8> = (0..5 * 1024 * 1024)
        .map(|i: u32| (i.wrapping_mul(2654435761) >> 24) as u8)
        .collect();
    let ids = api.push_events([payload.clone()]);
    let _bootstrap = launch(&api, "echo", &[]);
    let answers = api.wait_answers(&ids, PATIENCE);
    assert_eq!(answers[0].body.len(), payload.len());
    assert!(
        answers[0].body == payload,
        "the 5 MiB body came back altered"
    );
}

#[test]
fn next_held_for_70_seconds_is_waited_for_on_the_same_connection() {
    let api = FakeApi::start();
    let first = api.push(Invocation::new("warm"));
    let held = api.push(Invocation::new("after a long wait").hold(Duration::from_secs(70)));
    let mut bootstrap = launch(&api, "echo", &[]);
    let answers = api.wait_answers(&[first, held], Duration::from_secs(120));
    assert_eq!(answers[1].body, b"after a long wait");
    assert_eq!(
        api.connections(),
        1,
        "no timeout, no reconnect during the long poll"
    );
    assert!(bootstrap.is_running());
}

#[test]
fn connection_closed_after_a_post_is_reopened_and_serving_goes_on() {
    let api = FakeApi::start();
    api.inject(Endpoint::Response, Fault::CloseAfterAnswer);
    let ids = api.push_events([&b"one"[..], b"two", b"three"]);
    let _bootstrap = launch(&api, "echo", &[]);
    let answers = api.wait_answers(&ids, PATIENCE);
    assert_eq!(
        answers.iter().map(|a| a.body.clone()).collect::<Vec<_>>(),
        [&b"one"[..], b"two", b"three"]
    );
    assert_eq!(api.connections(), 2, "one new connection after the close");
}

#[test]
fn connection_reset_after_a_post_is_reopened_and_serving_goes_on() {
    let api = FakeApi::start();
    api.inject(Endpoint::Response, Fault::ResetAfterAnswer);
    let ids = api.push_events([&b"one"[..], b"two"]);
    let mut bootstrap = launch(&api, "echo", &[]);
    let answers = api.wait_answers(&ids, PATIENCE);
    assert_eq!(answers[1].body, b"two");
    assert!(bootstrap.is_running());
}

#[test]
fn runtime_api_gone_for_good_ends_the_process_after_bounded_retries() {
    let api = FakeApi::start();
    let ids = api.push_events([&b"last"[..]]);
    let mut bootstrap = launch(&api, "echo", &[]);
    api.wait_answers(&ids, PATIENCE);
    let gone = Instant::now();
    drop(api);
    let status = bootstrap
        .wait_exit(Duration::from_secs(40))
        .expect("gives up");
    let waited = gone.elapsed();
    assert_eq!(status.code(), Some(1));
    assert!(
        waited >= Duration::from_secs(8) && waited < Duration::from_secs(20),
        "retried for {waited:?}"
    );
    bootstrap.assert_stderr_contains("exits");
}
