//! The function URL flavour: `lambda_http::run_with_streaming_response`, status 200 and a
//! content type in the prelude, then the same 16 pieces of 64 KiB through the body channel.

use bytes::Bytes;
use lambda_http::{Error, Request, Response, service_fn};
use lambda_runtime::streaming::{Body, channel};
use payload::{PIECE_BYTES, static_payload};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let payload = static_payload();
    lambda_http::run_with_streaming_response(service_fn(move |_request: Request| page(payload)))
        .await
}

async fn page(payload: &'static [u8]) -> Result<Response<Body>, Error> {
    let (mut tx, rx) = channel();
    tokio::spawn(async move {
        for piece in payload.chunks(PIECE_BYTES) {
            if tx.send_data(Bytes::from_static(piece)).await.is_err() {
                return;
            }
        }
    });
    Ok(Response::builder()
        .status(200)
        .header("content-type", "application/octet-stream")
        .body(rx)?)
}
