//! The environment a runtime starts in: what Lambda sets, and nothing else.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};

/// The command that starts `path` as Lambda would, against the Runtime API at `api`: a clean
/// environment with only what Lambda sets (the official runtime refuses to start without the
/// function's name, memory size, version and log group and stream); stdout and stderr to
/// /dev/null unless `verbose`. Add to it what a benchmark needs (e.g. Managed Instances'
/// variables) before spawning.
pub fn command(path: &Path, api: SocketAddr, handler: &str, verbose: bool) -> Command {
    let output = || {
        if verbose {
            Stdio::inherit()
        } else {
            Stdio::null()
        }
    };
    let mut command = Command::new(path);
    command
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", api.to_string())
        .env("_HANDLER", handler)
        .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/22/[$LATEST]bench")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
        .env("LAMBDA_TASK_ROOT", "/var/task")
        .stdin(Stdio::null())
        .stdout(output())
        .stderr(output());
    command
}
