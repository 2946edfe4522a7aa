//! The zstd C library: the event compressed and decompressed again.
use lambda_blocking_rt::{Context, Error};

fn round_trip(event: &[u8], _ctx: &Context) -> Result<String, Error> {
    let zstd = |error: std::io::Error| Error::new("Zstd", error.to_string());
    let compressed = zstd::bulk::compress(event, 19).map_err(zstd)?;
    let restored = zstd::bulk::decompress(&compressed, event.len()).map_err(zstd)?;
    Ok(format!(
        "zstd={} in={} out={} same={}",
        zstd::zstd_safe::version_string(),
        event.len(),
        compressed.len(),
        restored == event
    ))
}

fn main() -> std::process::ExitCode {
    lambda_blocking_rt::run(round_trip)
}
