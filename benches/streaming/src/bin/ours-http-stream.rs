//! The function URL flavour on `lambda-blocking-rt`: status 200 and a content type in the
//! prelude, then the same 16 pieces of 64 KiB, one write (one chunk) each.

use std::io::Write;
use std::process::ExitCode;

use lambda_blocking_rt::{Context, Error, HttpResponse, ResponseStream};
use streaming::{PIECE_BYTES, static_payload};

fn main() -> ExitCode {
    let payload = static_payload();
    lambda_blocking_rt::run(lambda_blocking_rt::streaming(
        move |_event: &[u8], _ctx: &Context, out: &mut ResponseStream| -> Result<(), Error> {
            out.http_response(
                &HttpResponse::new(200).header("content-type", "application/octet-stream"),
            )?;
            for piece in payload.chunks(PIECE_BYTES) {
                out.write_all(piece)?;
            }
            Ok(())
        },
    ))
}
