//! `examples/dynamodb`, built by `cargo lambda-zip` for each architecture, against a real
//! DynamoDB API on loopback: moto's server, started here and stopped by its PID. From an empty
//! table to a round trip, and DynamoDB's own error code as the errorType.
//!
//! Ignored by `cargo test --workspace`: the binaries come from `scripts/test.sh`'s
//! `dynamodb-example` step, which builds them and runs these tests once per architecture with
//!   `DYNAMODB_LAMBDA_DIR`  the build's `lambda` directory (`<dir>/<arch>/dynamodb/bootstrap`)
//!   `DYNAMODB_ARCH`        `x86_64` (run natively) or `arm64` (run by qemu-aarch64-static)
//!   `MOTO_SERVER`          the `moto_server` executable

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use lambda_blocking_rt_tests::{BuiltBinary, Endpoint, FakeApi, PATIENCE, Post, required_env};
use serde_json::{Value, json};

const SCRIPT: &str = "scripts/test.sh (TEST_STEPS=dynamodb-example)";
const TABLE: &str = "visitors";

/// One moto at a time: the tests run in parallel, and two servers started at once could be given
/// the same free port, the second then failing to bind while its test talks to the first, which
/// goes away with the other test (seen once in CI: "Connection refused" mid-test).
static ONE_MOTO: Mutex<()> = Mutex::new(());

/// moto's server on a free loopback port; killed (by PID) when dropped.
struct Moto {
    child: Child,
    port: u16,
    _only_one: MutexGuard<'static, ()>,
}

impl Moto {
    fn start() -> Moto {
        let only_one = ONE_MOTO
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|address| address.port())
            .unwrap();
        let child = Command::new(required_env("MOTO_SERVER", SCRIPT))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting moto_server");
        let mut moto = Moto {
            child,
            port,
            _only_one: only_one,
        };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < PATIENCE,
                "moto_server did not listen on {port}"
            );
            if let Ok(Some(status)) = moto.child.try_wait() {
                panic!("moto_server exited ({status}) before it listened on {port}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// One call of DynamoDB's JSON protocol, as the SDK makes it (moto reads the region from
    /// the credential scope and does not check the signature); returns the status and body.
    fn call(&self, operation: &str, body: &Value) -> (u16, Value) {
        let body = body.to_string();
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(
            stream,
            "POST / HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/x-amz-json-1.0\r\n\
             X-Amz-Target: DynamoDB_20120810.{operation}\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.port,
            body.len()
        )
        .unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).unwrap();
        let answer = String::from_utf8_lossy(&answer);
        let (head, body) = answer.split_once("\r\n\r\n").expect("an HTTP answer");
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("{head}"));
        (status, serde_json::from_str(body).unwrap_or(Value::Null))
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The function's environment for `moto`: the SDK's region, credentials and endpoint.
fn function_env(moto: &Moto, table: &str) -> Vec<(String, String)> {
    vec![
        ("TABLE_NAME".into(), table.into()),
        ("AWS_REGION".into(), "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID".into(), "test".into()),
        ("AWS_SECRET_ACCESS_KEY".into(), "test".into()),
        ("AWS_ENDPOINT_URL".into(), moto.endpoint()),
    ]
}

fn run_function(moto: &Moto, table: &str, events: &[Value]) -> Vec<Post> {
    let binary = BuiltBinary::find("DYNAMODB_LAMBDA_DIR", "DYNAMODB_ARCH", SCRIPT, "dynamodb");
    let api = FakeApi::start();
    let ids = api.push_events(events.iter().map(|event| event.to_string()));
    let env = function_env(moto, table);
    let extra: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut function = binary.start(&api, &extra);
    let answers = api.wait_answers(&ids, PATIENCE);
    assert!(function.is_running(), "{}", function.stderr());
    answers
}

fn response(post: &Post) -> Value {
    assert_eq!(
        post.endpoint,
        Endpoint::Response,
        "{}",
        String::from_utf8_lossy(&post.body)
    );
    post.json()
}

#[test]
#[ignore = "needs the binaries and moto_server the dynamodb-example step provides"]
fn from_an_empty_table_to_a_round_trip_through_the_sdk() {
    let moto = Moto::start();
    let (status, created) = moto.call(
        "CreateTable",
        &json!({
            "TableName": TABLE,
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
        }),
    );
    assert_eq!(status, 200, "{created}");

    let answers = run_function(
        &moto,
        TABLE,
        &[
            json!({"op": "get", "id": "42"}),
            json!({"op": "put", "id": "42", "item": {"name": "Ada", "visits": 3, "admin": false}}),
            json!({"op": "get", "id": "42"}),
            json!({"op": "put", "id": "7", "item": {"tags": ["not", "flat"]}}),
            json!({"op": "delete", "id": "42"}),
        ],
    );
    assert_eq!(response(&answers[0]), json!({"found": false}));
    assert_eq!(response(&answers[1]), json!({"stored": "42"}));
    assert_eq!(
        response(&answers[2]),
        json!({"found": true, "item": {"id": "42", "name": "Ada", "visits": 3, "admin": false}})
    );
    assert_eq!(answers[3].endpoint, Endpoint::Error);
    assert_eq!(answers[3].error_type(), "Item.UnsupportedValue");
    assert_eq!(answers[4].error_type(), "Runtime.InvalidEvent");

    // What the function wrote is in the table, as DynamoDB gives it to anyone.
    let (status, scanned) = moto.call("Scan", &json!({"TableName": TABLE}));
    assert_eq!(status, 200, "{scanned}");
    assert_eq!(scanned["Count"], 1, "{scanned}");
    assert_eq!(scanned["Items"][0]["name"], json!({"S": "Ada"}));
    assert_eq!(scanned["Items"][0]["visits"], json!({"N": "3"}));
}

#[test]
#[ignore = "needs the binaries and moto_server the dynamodb-example step provides"]
fn a_table_that_does_not_exist_is_dynamodbs_own_error_code() {
    let moto = Moto::start();
    let answers = run_function(&moto, "no-such-table", &[json!({"op": "get", "id": "1"})]);
    assert_eq!(answers[0].endpoint, Endpoint::Error);
    assert_eq!(answers[0].error_type(), "ResourceNotFoundException");
}
