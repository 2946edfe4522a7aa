//! The `context` function alone, as `scripts/build.sh` ships it: the invocation's `Context` as JSON.
//! It serves its one handler whatever `_HANDLER` says.

use std::process::ExitCode;

fn main() -> ExitCode {
    lambda_blocking_rt::run(handlers::context::ShowContext)
}
