//! OpenSSL compiled from source (`vendored`): its version and the event's SHA-256.
use lambda_blocking_rt::{Context, Error};

fn digest(event: &[u8], _ctx: &Context) -> Result<String, Error> {
    Ok(format!(
        "{} sha256={}",
        openssl::version::version(),
        native_crates::hex(&openssl::sha::sha256(event))
    ))
}

fn main() -> std::process::ExitCode {
    lambda_blocking_rt::run(digest)
}
