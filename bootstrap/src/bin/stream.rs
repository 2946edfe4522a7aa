//! The `stream` function alone, as `scripts/build.sh` ships it: numbered lines, streamed.
//! It serves its one handler whatever `_HANDLER` says.

use std::process::ExitCode;

fn main() -> ExitCode {
    lambda_blocking_rt::run(handlers::stream::handler())
}
