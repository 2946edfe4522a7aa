//! 1 MiB streamed in 16 pieces of 64 KiB with `lambda_runtime`'s streaming response: the
//! handler returns a `StreamResponse` over the body channel, and a task sends the pieces
//! through it (the documented pattern of `lambda_runtime::streaming::channel`).
//! `_HANDLER=fail`: the stream fails after its first piece.

use bytes::Bytes;
use lambda_runtime::streaming::{Body, Response, channel};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use payload::{PIECE_BYTES, fail_mode, static_payload};
use serde::de::IgnoredAny;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let payload = static_payload();
    let fail = fail_mode();
    lambda_runtime::run(service_fn(move |_event: LambdaEvent<IgnoredAny>| {
        stream(payload, fail)
    }))
    .await
}

async fn stream(payload: &'static [u8], fail: bool) -> Result<Response<Body>, Error> {
    let (mut tx, rx) = channel();
    tokio::spawn(async move {
        for piece in payload.chunks(PIECE_BYTES) {
            if tx.send_data(Bytes::from_static(piece)).await.is_err() {
                return;
            }
            if fail {
                let error = "failed on purpose after the first piece";
                tx.send_error(lambda_runtime_api_client::Error::new(error));
                return;
            }
        }
    });
    Ok(Response::from(rx))
}
