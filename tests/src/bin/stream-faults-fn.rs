//! A user's streaming function for the streaming fault tests:
//! `{"panic_after": K}` writes K lines, then panics; `{"flood": true}` writes 64 KiB pieces
//! until the stream refuses more (Lambda's 200 MiB limit), then returns `Ok`.

use std::io::Write;
use std::process::ExitCode;

use lambda_blocking_rt::{Context, Error, ResponseStream};

#[derive(serde::Deserialize)]
struct Input {
    #[serde(default)]
    panic_after: Option<u32>,
    #[serde(default)]
    flood: bool,
}

fn faults(input: Input, _ctx: &Context, out: &mut ResponseStream) -> Result<(), Error> {
    if let Some(k) = input.panic_after {
        for i in 0..k {
            writeln!(out, "line {i}")?;
        }
        panic!("panicked on purpose after {k} lines");
    }
    if input.flood {
        let piece = vec![b'x'; 64 * 1024];
        while out.write_all(&piece).is_ok() {}
    }
    Ok(())
}

fn main() -> ExitCode {
    lambda_blocking_rt::run(lambda_blocking_rt::streaming_json(faults))
}
