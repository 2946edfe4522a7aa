//! The `sleep` function alone, as `scripts/build.sh` ships it: `{"ms": 400}` → `{"slept_ms":400}`.
//! It serves its one handler whatever `_HANDLER` says.

use std::process::ExitCode;

fn main() -> ExitCode {
    lambda_blocking_rt::run(handlers::sleep::Sleep)
}
