//! The `web` function alone, as `scripts/build.sh` ships it: every Lambda HTTP source (API
//! Gateway, function URLs, ALB, VPC Lattice), answered with a description of the request.
//! It serves its one handler whatever `_HANDLER` says.

use std::process::ExitCode;

fn main() -> ExitCode {
    lambda_blocking_rt::run(handlers::web::handler())
}
