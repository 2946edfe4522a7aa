//! The same 1 MiB returned buffered on `lambda-blocking-rt`: a closure that returns the payload,
//! made once; the runtime copies it into its response buffer and posts it with a Content-Length.

use std::process::ExitCode;

use lambda_blocking_rt::{Context, Error};
use streaming::static_payload;

fn main() -> ExitCode {
    let payload = static_payload();
    lambda_blocking_rt::run(
        move |_event: &[u8], _ctx: &Context| -> Result<&'static [u8], Error> { Ok(payload) },
    )
}
