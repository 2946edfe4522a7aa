//! rustls on ring: the event's SHA-256 by ring's (assembly) implementation, and a TLS client
//! configuration built at init, as a function that calls HTTPS services has.
use lambda_blocking_rt::{Context, Error};

fn main() -> std::process::ExitCode {
    lambda_blocking_rt::run_with_init(|| {
        // ureq with its rustls feature: rustls on ring, with the webpki roots.
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .tls_config(
                ureq::tls::TlsConfig::builder()
                    .provider(ureq::tls::TlsProvider::Rustls)
                    .build(),
            )
            .build()
            .into();
        Ok(move |event: &[u8], _ctx: &Context| {
            let _ = &agent;
            let digest = ring::digest::digest(&ring::digest::SHA256, event);
            Ok::<_, Error>(format!("sha256={}", native_crates::hex(digest.as_ref())))
        })
    })
}
