//! Errors of the extension client.

use lambda_blocking_rt::extension_api::ExtensionApiError;

/// What went wrong talking to the Extensions or Telemetry API, or with the listener.
#[derive(Debug, thiserror::Error)]
pub enum ExtensionError {
    /// A call to the API failed (the network, a refusal status, or `AWS_LAMBDA_RUNTIME_API`).
    #[error(transparent)]
    Api(#[from] ExtensionApiError),
    /// `/event/next` gave something that is not an event.
    #[error("the /event/next answer is not an event ({reason}): {body:?}")]
    BadEvent { reason: String, body: String },
    /// The executable's file name (an external extension's name) could not be found.
    #[error(
        "this extension's executable has no file name to register with: Lambda registers external extensions under their file name in /opt/extensions"
    )]
    NoName,
    /// The telemetry listener could not bind or start.
    #[error("the telemetry listener could not start on {address}: {source}")]
    Listener {
        address: String,
        #[source]
        source: std::io::Error,
    },
}

impl ExtensionError {
    /// The status the API answered with, when it refused a call.
    pub fn status(&self) -> Option<u16> {
        match self {
            ExtensionError::Api(e) => e.status(),
            _ => None,
        }
    }
}
