//! A user's own function, as a user makes it: a `cargo new` crate outside this repository with
//! the runtime as a dependency, `examples/sqs-batch`'s `src/lib.rs` and `src/bin/{sqs,raw}.rs`
//! copied in, the README's `main.rs` as its `src/main.rs`, built into Lambda zips by
//! `scripts/build.sh --manifest-path`. Each binary runs as Lambda runs it: `_HANDLER=bootstrap`,
//! against the fake Runtime API.
//!
//! Ignored by `cargo test --workspace`: the binaries come from `scripts/test-user-function.sh`,
//! which runs these tests once per architecture with
//!   `USER_FUNCTION_LAMBDA_DIR`  the build's `lambda` directory (`<dir>/<arch>/<bin>/bootstrap`)
//!   `USER_FUNCTION_ARCH`        `x86_64` (run natively) or `arm64` (run by qemu-aarch64-static)
//! Run by hand without them, they fail: a test that passes without its binary proves nothing.

use lambda_blocking_rt_tests::{
    BuiltBinary, Endpoint, FakeApi, Invocation, PATIENCE, Post, fixture,
};
use serde_json::{Value, json};

/// The binary built from the README's `main.rs`: `cargo new` names it after the crate, and
/// `scripts/test-user-function.sh` names the crate this.
const README_BIN: &str = "my-function";
const SQS_BIN: &str = "sqs";
const RAW_BIN: &str = "raw";

/// `$USER_FUNCTION_LAMBDA_DIR/$USER_FUNCTION_ARCH/<bin>/bootstrap`.
struct UserBinary;

impl UserBinary {
    fn find(bin: &str) -> BuiltBinary {
        BuiltBinary::find(
            "USER_FUNCTION_LAMBDA_DIR",
            "USER_FUNCTION_ARCH",
            "scripts/test-user-function.sh",
            bin,
        )
    }
}

fn assert_error(post: &Post, error_type: &str) {
    assert_eq!(post.endpoint, Endpoint::Error, "{post:?}");
    assert_eq!(post.error_type(), error_type, "{post:?}");
    assert_eq!(
        post.header("Lambda-Runtime-Function-Error-Type"),
        Some(error_type)
    );
}

fn assert_response(post: &Post) {
    assert_eq!(
        post.endpoint,
        Endpoint::Response,
        "{}: {}",
        post.path,
        String::from_utf8_lossy(&post.body)
    );
}

#[test]
#[ignore = "needs the binaries scripts/test-user-function.sh builds"]
fn sqs_batch_reports_exactly_the_messages_that_are_not_orders() {
    let api = FakeApi::start();
    let mixed = api.push(Invocation::new(fixture("sqs-orders-mixed.json")));
    let good = api.push(Invocation::new(fixture("sqs-orders-all-good.json")));
    let mut function = UserBinary::find(SQS_BIN).start(&api, &[]);

    let answers = api.wait_answers(&[mixed.clone(), good.clone()], PATIENCE);
    assert_response(&answers[0]);
    let expected: Value =
        serde_json::from_slice(&fixture("sqs-orders-mixed-expected.json")).unwrap();
    assert_eq!(answers[0].json(), expected);
    assert_response(&answers[1]);
    assert_eq!(answers[1].json(), json!({"batchItemFailures": []}));

    // The user's `log::info!` and `log::warn!` lines, through the logging `run` installs, with
    // the request id of the invocation that wrote them.
    let processed = format!("[INFO] {mixed} order C-3001 x4");
    let rejected = format!("[WARN] {mixed} message 3d7f6a10-0002-4c1e-9a55-5b8f1e2d3c4a failed");
    let last = format!("[INFO] {good} order D-4001 x12");
    let (logged, stderr) = function.wait_stderr(&last, PATIENCE);
    assert!(logged, "{stderr}");
    assert!(stderr.contains(&processed), "{stderr}");
    assert!(stderr.contains(&rejected), "{stderr}");
    assert!(function.is_running(), "{stderr}");
}

#[test]
#[ignore = "needs the binaries scripts/test-user-function.sh builds"]
fn sqs_binary_answers_an_event_that_is_not_an_sqs_batch_with_invalid_event_and_keeps_serving() {
    let api = FakeApi::start();
    let ids = api.push_events([
        &br#"{"Records":"nope"}"#[..],
        b"[1,2]",
        &fixture("sqs-orders-all-good.json"),
    ]);
    let mut function = UserBinary::find(SQS_BIN).start(&api, &[]);

    let answers = api.wait_answers(&ids, PATIENCE);
    assert_error(&answers[0], "Runtime.InvalidEvent");
    assert!(
        answers[0].error_message().contains("SqsEvent"),
        "the message names the type: {}",
        answers[0].error_message()
    );
    assert_error(&answers[1], "Runtime.InvalidEvent");
    assert_response(&answers[2]);
    assert_eq!(answers[2].json(), json!({"batchItemFailures": []}));
    assert!(function.is_running(), "{}", function.stderr());
}

#[test]
#[ignore = "needs the binaries scripts/test-user-function.sh builds"]
fn raw_binary_answers_any_bytes_with_ascii_upper_cased_byte_for_byte() {
    let api = FakeApi::start();
    // Every byte value, a few times over (1 MiB): none may be lost, replaced or re-encoded.
    let every_byte: Vec<u8> = (0..=255u8).cycle().take(1 << 20).collect();
    let events = [
        fixture("non-utf8.bin"),
        br#"{"text":"not parsed, just bytes"}"#.to_vec(),
        Vec::new(),
        every_byte.clone(),
    ];
    let ids = api.push_events(events);
    let mut function = UserBinary::find(RAW_BIN).start(&api, &[]);

    let answers = api.wait_answers(&ids, PATIENCE);
    for answer in &answers {
        assert_response(answer);
    }
    assert_eq!(answers[0].body, b"\xff\xfe\x00BINARY\x80\x81 NOT UTF-8\n");
    assert_eq!(answers[1].body, br#"{"TEXT":"NOT PARSED, JUST BYTES"}"#);
    assert_eq!(answers[2].body, b"");
    assert_eq!(answers[3].body, every_byte.to_ascii_uppercase());
    assert!(function.is_running(), "{}", function.stderr());
}

#[test]
#[ignore = "needs the binaries scripts/test-user-function.sh builds"]
fn readme_main_rs_totals_an_order_and_reports_its_errors() {
    let api = FakeApi::start();
    let ids = api.push_events([
        &br#"{"quantity":3,"unit_price_cents":250}"#[..],
        br#"{"quantity":4294967295,"unit_price_cents":2}"#,
        br#"{"quantity":"3","unit_price_cents":250}"#,
        br#"{"quantity":1,"unit_price_cents":99}"#,
        br#"{"quantity":1,"unit_price_cents":99,"coupon":"SAVE50"}"#,
        br#"{"quantity":1,"unit_price_cents":99,"coupon":"FREE"}"#,
        br#"{"quantity":1,"unit_price_cents":99,"coupon":"SAVEALL"}"#,
    ]);
    let mut function = UserBinary::find(README_BIN).start(&api, &[]);

    let answers = api.wait_answers(&ids, PATIENCE);
    assert_response(&answers[0]);
    assert_eq!(answers[0].json(), json!({"total_cents": 750}));
    assert_error(&answers[1], "Order.TooLarge");
    assert_error(&answers[2], "Runtime.InvalidEvent");
    assert_response(&answers[3]);
    assert_eq!(answers[3].json(), json!({"total_cents": 99}));
    assert_response(&answers[4]);
    assert_eq!(answers[4].json(), json!({"total_cents": 49}));
    // `?` on a &str and on a ParseIntError.
    assert_error(&answers[5], "Error");
    assert_eq!(answers[5].error_message(), "a coupon starts with SAVE");
    assert_error(&answers[6], "ParseIntError");
    assert_eq!(answers[6].error_message(), "invalid digit found in string");
    assert!(function.is_running(), "{}", function.stderr());
}

#[test]
#[ignore = "needs the binaries scripts/test-user-function.sh builds"]
fn every_user_binary_is_built_for_the_arch_under_test_with_its_zip_beside_it() {
    for bin in [README_BIN, SQS_BIN, RAW_BIN] {
        let binary = UserBinary::find(bin);
        let zip = binary.path.with_extension("zip");
        assert!(zip.is_file(), "{bin}: no {}", zip.display());
    }
}
