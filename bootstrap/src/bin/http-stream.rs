//! The `http-stream` function alone: a function URL page streamed with status, headers and a
//! cookie. It serves its one handler whatever `_HANDLER` says.

use std::process::ExitCode;

fn main() -> ExitCode {
    lambda_blocking_rt::run(handlers::http_stream::handler())
}
