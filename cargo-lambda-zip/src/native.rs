//! Dependencies that link a system C library, found in the dependency graph before building:
//! a static musl binary linked by rust-lld has no system libraries to link against, and the
//! build would fail late in a build script or at the link with a message about the C library,
//! not about the Rust dependency that asked for it.

use crate::error::Error;
use crate::project::Graph;

/// A crate that needs a system library, and the pure-Rust way out.
struct SystemLibraryCrate {
    name: &'static str,
    library: &'static str,
    advice: &'static str,
}

/// `native-tls` (and `reqwest`'s default `default-tls`) reach OpenSSL through `openssl-sys`, so
/// that crate stands for all of them.
const SYSTEM_LIBRARY_CRATES: &[SystemLibraryCrate] = &[
    SystemLibraryCrate {
        name: "openssl-sys",
        library: "the system OpenSSL",
        advice: "use rustls instead of native-tls/OpenSSL, e.g. reqwest = { version = \"0.12\", default-features = false, features = [\"rustls-tls\"] }",
    },
    SystemLibraryCrate {
        name: "curl-sys",
        library: "the system libcurl",
        advice: "use a pure-Rust HTTP client instead, e.g. ureq or reqwest with the rustls-tls feature",
    },
    SystemLibraryCrate {
        name: "pq-sys",
        library: "the system libpq",
        advice: "use a pure-Rust PostgreSQL client instead, e.g. tokio-postgres or sqlx with rustls",
    },
];

/// Fails on the first crate of the table the binaries would link, naming the dependency that
/// pulls it in.
pub fn check(graph: &Graph<'_>) -> Result<(), Error> {
    for known in SYSTEM_LIBRARY_CRATES {
        if let Some(id) = graph.find_linked(known.name) {
            return Err(Error::SystemLibraryDependency {
                krate: known.name.to_owned(),
                library: known.library,
                pulled_in: graph.pulled_in_by(id),
                advice: known.advice,
            });
        }
    }
    Ok(())
}
