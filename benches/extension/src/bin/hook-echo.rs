//! echo, with a shutdown hook when `BENCH_SHUTDOWN_HOOK` is set: the benchmark starts it both
//! ways to measure what the hook's internal extension adds to init.

use std::process::ExitCode;

use lambda_blocking_rt::{Context, Error};

fn main() -> ExitCode {
    if std::env::var_os("BENCH_SHUTDOWN_HOOK").is_some() {
        lambda_blocking_rt::on_shutdown(|| println!("shutdown hook ran"));
    }
    lambda_blocking_rt::run(|event: &[u8], _ctx: &Context| Ok::<_, Error>(event.to_vec()))
}
