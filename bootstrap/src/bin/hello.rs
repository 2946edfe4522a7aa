//! The `hello` function alone, as `scripts/build.sh` ships it: an HTTP API / function URL greeting.
//! It serves its one handler whatever `_HANDLER` says.

use std::process::ExitCode;

fn main() -> ExitCode {
    lambda_blocking_rt::run(handlers::hello::handler())
}
