//! A user's function with a shutdown hook, as the shutdown tests run it: echo, and on SIGTERM
//! or SIGINT the hook prints a line (after a short pause, to show exit waits for it).

use std::process::ExitCode;

use lambda_blocking_rt::{Context, Error};

fn main() -> ExitCode {
    lambda_blocking_rt::on_shutdown(|| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        println!("shutdown hook ran");
    });
    lambda_blocking_rt::run(|event: &[u8], _ctx: &Context| Ok::<_, Error>(event.to_vec()))
}
