//! A fake Lambda Runtime API on 127.0.0.1 that can be told to misbehave, and a way to run the
//! real `bootstrap` binary against it, as Lambda would.
//!
//! The server is written on plain sockets on purpose: it must be able to reset, truncate,
//! trickle and garble its answers, which no well-behaved HTTP server library does on demand.

mod built;
mod process;
mod server;
pub mod soak;

pub use built::{BuiltBinary, required_env};
pub use process::{
    Bootstrap, bootstrap_path, extension_binary_path, function_binary_path, test_binary_path,
};
pub use server::{Endpoint, FakeApi, Fault, Invocation, Post};

/// Reads a fixture file from `tests/fixtures/`.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// How long a test waits for something that normally takes milliseconds (generous for
/// emulated arm64 runs).
pub const PATIENCE: std::time::Duration = std::time::Duration::from_secs(30);

/// Starts the bootstrap against `api` with `_HANDLER=handler` and a Lambda-like environment;
/// `extra` adds or overrides variables.
pub fn launch(api: &FakeApi, handler: &str, extra: &[(&str, &str)]) -> Bootstrap {
    Bootstrap::spawn(&lambda_env(api, handler, extra))
}

/// The environment Lambda gives a function, pointed at `api`; `extra` adds or overrides.
pub fn lambda_env(api: &FakeApi, handler: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let address = api.address();
    let mut env: Vec<(&str, &str)> = vec![
        ("AWS_LAMBDA_RUNTIME_API", &address),
        ("_HANDLER", handler),
        ("AWS_LAMBDA_FUNCTION_NAME", "test-function"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/test-function"),
        (
            "AWS_LAMBDA_LOG_STREAM_NAME",
            "2026/11/22/[$LATEST]0123456789abcdef",
        ),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
    ];
    for (k, v) in extra {
        env.retain(|(name, _)| name != k);
        env.push((k, v));
    }
    env.into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}
