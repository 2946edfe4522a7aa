//! A user's streamed web function for the web streaming tests: the path `/lines/N` writes the
//! lines `line 0` … `line N-1`, 100 ms apart, each sent as it is written; `/fail` writes one
//! line, then fails with `StoreError` through `?` (a `String`), which must end the stream with
//! Lambda's error trailers.

use std::process::ExitCode;
use std::time::Duration;

use lambda_blocking_rt::web::{self, Request, Response, StreamBody};
use lambda_blocking_rt::{Context, Error};

fn lines(request: Request, _ctx: &Context) -> Result<Response<StreamBody>, Error> {
    let path = request.uri().path().to_owned();
    let body = StreamBody::from_writer(move |out| {
        if path == "/fail" {
            writeln!(out, "line 0")?;
            return Err(
                Error::from(format!("the store went away after {path}")).with_type("StoreError")
            );
        }
        let count: u32 = path.strip_prefix("/lines/").unwrap_or("0").parse()?;
        for i in 0..count {
            writeln!(out, "line {i}")?;
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    });
    Ok(Response::builder()
        .status(201)
        .header("content-type", "text/plain")
        .header("set-cookie", "a=1")
        .header("set-cookie", "b=2; Path=/")
        .body(body)?)
}

fn main() -> ExitCode {
    lambda_blocking_rt::run(web::streaming(lines))
}
