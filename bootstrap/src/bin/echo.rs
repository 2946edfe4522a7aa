//! The `echo` function alone, as `scripts/build.sh` ships it: the event back, byte for byte.
//! It serves its one handler whatever `_HANDLER` says.

use std::process::ExitCode;

fn main() -> ExitCode {
    lambda_blocking_rt::run(handlers::echo::Echo)
}
