//! The `panic` function alone, as `scripts/build.sh` ships it: panics with the event's `message`.
//! It serves its one handler whatever `_HANDLER` says.

use std::process::ExitCode;

fn main() -> ExitCode {
    lambda_blocking_rt::run(handlers::panic::Panics)
}
