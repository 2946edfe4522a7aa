//! 1 MiB streamed in 16 pieces of 64 KiB on `lambda-blocking-rt`: each `write_all` is one write,
//! so one chunk on the wire, sent at once. `_HANDLER=fail`: fails after the first piece.

use std::io::Write;
use std::process::ExitCode;

use lambda_blocking_rt::{Context, Error, ResponseStream};
use streaming::{PIECE_BYTES, fail_mode, static_payload};

fn main() -> ExitCode {
    let payload = static_payload();
    let fail = fail_mode();
    lambda_blocking_rt::run(lambda_blocking_rt::streaming(
        move |_event: &[u8], _ctx: &Context, out: &mut ResponseStream| -> Result<(), Error> {
            for piece in payload.chunks(PIECE_BYTES) {
                out.write_all(piece)?;
                if fail {
                    return Err(Error::new(
                        "StreamError",
                        "failed on purpose after the first piece",
                    ));
                }
            }
            Ok(())
        },
    ))
}
