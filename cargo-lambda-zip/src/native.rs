//! Dependencies that link a system C library, found in the dependency graph before building:
//! a static musl binary linked by rust-lld has no system libraries to link against, and the
//! build would fail late in a build script or at the link with a message about the C library,
//! not about the Rust dependency that asked for it.

use crate::error::Error;
use crate::project::Graph;

/// A crate that needs a system library, and the way out.
struct SystemLibraryCrate {
    name: &'static str,
    library: &'static str,
    /// The crate's feature that builds the library from source instead (with the C compiler
    /// this tool provides), if it has one.
    builds_from_source: Option<&'static str>,
    advice: &'static str,
}

/// `native-tls` (and `reqwest`'s default `default-tls`) reach OpenSSL through `openssl-sys`, so
/// that crate stands for all of them.
const SYSTEM_LIBRARY_CRATES: &[SystemLibraryCrate] = &[
    SystemLibraryCrate {
        name: "openssl-sys",
        library: "the system OpenSSL",
        builds_from_source: Some("vendored"),
        advice: "build OpenSSL from source into the binary: add openssl = { version = \"0.10\", features = [\"vendored\"] } to your [dependencies] (or use rustls instead of native-tls/OpenSSL)",
    },
    SystemLibraryCrate {
        name: "curl-sys",
        library: "the system libcurl",
        builds_from_source: None,
        advice: "use a pure-Rust HTTP client instead, e.g. ureq or reqwest with the rustls-tls feature",
    },
    SystemLibraryCrate {
        name: "pq-sys",
        library: "the system libpq",
        builds_from_source: None,
        advice: "use a pure-Rust PostgreSQL client instead, e.g. tokio-postgres or sqlx with rustls",
    },
];

/// Fails on the first crate of the table the binaries would link against a system library (not
/// built from source), naming the dependency that pulls it in.
pub fn check(graph: &Graph<'_>) -> Result<(), Error> {
    for known in SYSTEM_LIBRARY_CRATES {
        if let Some(id) = graph.find_linked(known.name) {
            let from_source = known
                .builds_from_source
                .is_some_and(|feature| graph.features(id).iter().any(|on| on == feature));
            if from_source {
                continue;
            }
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
