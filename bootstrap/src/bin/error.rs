//! The `error` function alone, as `scripts/build.sh` ships it: always the error `DemoError` (or an init error with `DEMO_INIT_ERROR` set).
//! It serves its one handler whatever `_HANDLER` says.

use std::process::ExitCode;

fn main() -> ExitCode {
    lambda_blocking_rt::run_with_init(handlers::error::init)
}
