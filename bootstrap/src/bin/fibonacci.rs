//! The `fibonacci` function alone, as `scripts/build.sh` ships it: `{"n":35}` → `{"n":35,"result":9227465}`.
//! It serves its one handler whatever `_HANDLER` says.

use std::process::ExitCode;

fn main() -> ExitCode {
    lambda_blocking_rt::run(handlers::fibonacci::Fibonacci)
}
