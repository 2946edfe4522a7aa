//! `http-stream`: a function URL (response stream mode) handler that streams an HTML page: status
//! 200, a content type, a cache header and a cookie in the prelude, then the page in three parts
//! as they are "ready".

use std::io::Write;
use std::time::Duration;

use lambda_blocking_rt::{Context, Error, HttpResponse, ResponseStream, StreamingHandler};

/// Streams a small page.
#[derive(Clone, Copy)]
pub struct Page;

impl StreamingHandler for Page {
    fn stream(
        &mut self,
        _event: &[u8],
        ctx: &Context,
        out: &mut ResponseStream<'_>,
    ) -> Result<(), Error> {
        out.http_response(
            &HttpResponse::new(200)
                .header("content-type", "text/html; charset=utf-8")
                .header("cache-control", "no-store")
                .cookie("visited=1; Path=/; HttpOnly"),
        )?;
        out.write_all(b"<!doctype html><title>streamed</title><p>first part\n")?;
        for part in ["second", "third"] {
            std::thread::sleep(Duration::from_millis(50));
            writeln!(out, "<p>{part} part")?;
        }
        writeln!(out, "<p>request {}", ctx.request_id)?;
        Ok(())
    }
}

/// The handler, ready for `run`.
pub fn handler() -> lambda_blocking_rt::Streaming<Page> {
    lambda_blocking_rt::streaming(Page)
}
