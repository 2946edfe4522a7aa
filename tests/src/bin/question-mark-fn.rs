//! A user's function for the `?` tests: one handler of each kind (plain, typed, streaming),
//! chosen by `_HANDLER`, fails through `?` on the error the event names: `std` (a
//! `ParseIntError`), `anyhow` (an `anyhow::Error` with context), `boxed` (a
//! `Box<dyn Error + Send + Sync>`), `string` (a `String`), `str` (a `&str`). Anything else is
//! answered with `ok`. No `map_err` anywhere: that is the point.

use std::io::Write;
use std::process::ExitCode;

use lambda_blocking_rt::{Context, Error, ResponseStream, Router};

/// Fails the way `kind` says, each time through `?`.
fn fail_with(kind: &str) -> Result<(), Error> {
    match kind {
        "std" => {
            let _: u32 = "twelve".parse()?;
        }
        "anyhow" => {
            let inner = anyhow::anyhow!("the store answered 503");
            Err(inner.context("loading order 7"))?;
        }
        "boxed" => {
            let boxed: Box<dyn std::error::Error + Send + Sync> = "not a boolean".into();
            Err(boxed)?;
        }
        "string" => Err(format!("no item {}", 42))?,
        "str" => Err("no items at all")?,
        _ => {}
    }
    Ok(())
}

fn plain(event: &[u8], _ctx: &Context) -> Result<&'static [u8], Error> {
    fail_with(std::str::from_utf8(event)?)?;
    Ok(b"ok")
}

fn typed(kind: String, _ctx: &Context) -> Result<String, Error> {
    fail_with(&kind)?;
    Ok("ok".into())
}

fn streamed(event: &[u8], _ctx: &Context, out: &mut ResponseStream) -> Result<(), Error> {
    fail_with(std::str::from_utf8(event)?)?;
    out.write_all(b"ok")?;
    Ok(())
}

fn main() -> ExitCode {
    lambda_blocking_rt::run_with_init(|| {
        Router::new()
            .route("plain", plain)
            .route("typed", lambda_blocking_rt::json(typed))
            .route("streamed", lambda_blocking_rt::streaming(streamed))
            .select_from_env()
    })
}
