//! The Extensions API (`/2020-01-01/extension`) and the Telemetry API (`/2022-07-01/telemetry`):
//! the same host, the same HTTP client, connection and retry policy as the Runtime API (the wire
//! layer is shared); one function per endpoint, the path beside it.
//!
//! Used by the runtime for its internal extension (see `shutdown`), and, through the hidden
//! `lambda_blocking_rt::extension_api` module, by the `lambda-blocking-ext` crate.

use std::io::Read;

use ureq::Agent;
use ureq::http::Response;

use super::{BaseUrl, endpoint_url, runtime_agent};
use crate::error::{AddressError, ApiError};
use crate::protocol::*;
use crate::retry::with_retries;

/// The most of an answer's body that is read: events and registrations are a few hundred bytes.
const MAX_ANSWER_BYTES: u64 = 1024 * 1024;
/// The most of a refusal's body kept for its error message.
const MAX_REFUSAL_BYTES: usize = 1024;

/// Why a call to the Extensions or Telemetry API failed.
// Shaped like the Runtime API's `ApiError` (`error.rs`; `duplicates` pairs them), but public and
// with other outcomes: the extension crate hands it to users, who match on it.
#[derive(Debug, thiserror::Error)]
pub enum ExtensionApiError {
    /// The request or its answer did not make it (retried first when the network failed it).
    #[error("{endpoint}: {source}")]
    Transport {
        endpoint: &'static str,
        #[source]
        source: ureq::Error,
    },
    /// The API answered with a status other than the one the call expects.
    #[error("{endpoint} answered HTTP {status}: {body}")]
    Status {
        endpoint: &'static str,
        status: u16,
        body: String,
    },
    /// `/register` answered 200 without the identifier every later call must send.
    #[error("{endpoint} answered without a Lambda-Extension-Identifier header")]
    NoIdentifier { endpoint: &'static str },
    /// `AWS_LAMBDA_RUNTIME_API` is missing or unusable.
    #[error("{0}")]
    Address(String),
}

impl ExtensionApiError {
    /// The status the API answered with, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ExtensionApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl From<ApiError> for ExtensionApiError {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::Transport { endpoint, source } => {
                ExtensionApiError::Transport { endpoint, source }
            }
            ApiError::Fatal {
                endpoint,
                status,
                body,
            } => ExtensionApiError::Status {
                endpoint,
                status,
                body,
            },
            ApiError::Unanswerable(e) => ExtensionApiError::Address(e.to_string()),
        }
    }
}

/// What `/register` gave: the identifier to send on every later call, and the answer's body
/// (`functionName`, `functionVersion`, `handler`, and `accountId` when asked for).
#[derive(Debug, Clone)]
pub struct Registration {
    pub identifier: String,
    pub body: Vec<u8>,
}

/// Which error report an extension sends: `/init/error` before its first `/event/next`,
/// `/exit/error` after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorPhase {
    Init,
    Exit,
}

/// A client of the Extensions and Telemetry APIs, on its own keep-alive connection.
pub struct ExtensionApi {
    agent: Agent,
    /// `http://{authority}{prefix}`: the versioned paths are appended to it.
    root: String,
    /// Reused for every URL.
    url: String,
}

impl ExtensionApi {
    pub(crate) fn new(base: &BaseUrl) -> ExtensionApi {
        ExtensionApi {
            agent: runtime_agent(),
            root: base.root().to_owned(),
            url: String::new(),
        }
    }

    /// The API at `AWS_LAMBDA_RUNTIME_API`, as Lambda sets it for extensions and runtimes alike.
    pub fn from_env() -> Result<ExtensionApi, ExtensionApiError> {
        let value = std::env::var(ENV_RUNTIME_API)
            .map_err(|_| ExtensionApiError::Address(AddressError::Missing.to_string()))?;
        ExtensionApi::at(&value)
    }

    /// The API at `address`, written as `AWS_LAMBDA_RUNTIME_API` would be.
    pub fn at(address: &str) -> Result<ExtensionApi, ExtensionApiError> {
        let base = crate::config::base_url(address)
            .map_err(|e| ExtensionApiError::Address(e.to_string()))?;
        Ok(ExtensionApi::new(&base))
    }

    /// `POST /2020-01-01/extension/register`: registers `name` for `events` (`INVOKE`,
    /// `SHUTDOWN`; an internal extension may not take `SHUTDOWN`). With `accept_account_id` the
    /// answer's body also holds the account id.
    pub fn register(
        &mut self,
        name: &str,
        events: &[&str],
        accept_account_id: bool,
    ) -> Result<Registration, ExtensionApiError> {
        const ENDPOINT: &str = "POST /2020-01-01/extension/register";
        #[derive(serde::Serialize)]
        struct Body<'a> {
            events: &'a [&'a str],
        }
        // Never fails: a struct of strings.
        let body = serde_json::to_vec(&Body { events }).unwrap_or_default();
        let url = endpoint_url(&mut self.url, &self.root, PATH_EXTENSION_REGISTER);
        let agent = &self.agent;
        let response = with_retries(|| {
            let mut request = agent
                .post(&*url)
                .header(HEADER_EXTENSION_NAME, name)
                .content_type("application/json");
            if accept_account_id {
                request = request.header(HEADER_EXTENSION_ACCEPT_FEATURE, "accountId");
            }
            request
                .send(&body[..])
                .map_err(|source| ApiError::Transport {
                    endpoint: ENDPOINT,
                    source,
                })
        })?;
        let identifier = response
            .headers()
            .get(HEADER_EXTENSION_IDENTIFIER)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned);
        let mut answer = Vec::new();
        read_answer(ENDPOINT, response, |s| s == 200, &mut answer)?;
        let identifier =
            identifier.ok_or(ExtensionApiError::NoIdentifier { endpoint: ENDPOINT })?;
        Ok(Registration {
            identifier,
            body: answer,
        })
    }

    /// `GET /2020-01-01/extension/event/next`: waits (with no time limit) for the next event and
    /// reads it into `event`, replacing what it held. Calling it says "done with the last one".
    pub fn next_event(
        &mut self,
        identifier: &str,
        event: &mut Vec<u8>,
    ) -> Result<(), ExtensionApiError> {
        const ENDPOINT: &str = "GET /2020-01-01/extension/event/next";
        let url = endpoint_url(&mut self.url, &self.root, PATH_EXTENSION_NEXT);
        let agent = &self.agent;
        let response = with_retries(|| {
            agent
                .get(&*url)
                .header(HEADER_EXTENSION_IDENTIFIER, identifier)
                .call()
                .map_err(|source| ApiError::Transport {
                    endpoint: ENDPOINT,
                    source,
                })
        })?;
        read_answer(ENDPOINT, response, |s| s == 200, event)
    }

    /// `POST /2020-01-01/extension/{init,exit}/error`: reports why the extension cannot start
    /// (`Init`) or goes away (`Exit`), `error_type` as `Category.Reason`, `body` the error JSON
    /// (may be empty). The extension should exit after it.
    pub fn report_error(
        &mut self,
        phase: ErrorPhase,
        identifier: &str,
        error_type: &str,
        body: &[u8],
    ) -> Result<(), ExtensionApiError> {
        let (endpoint, path) = match phase {
            ErrorPhase::Init => (
                "POST /2020-01-01/extension/init/error",
                PATH_EXTENSION_INIT_ERROR,
            ),
            ErrorPhase::Exit => (
                "POST /2020-01-01/extension/exit/error",
                PATH_EXTENSION_EXIT_ERROR,
            ),
        };
        let url = endpoint_url(&mut self.url, &self.root, path);
        let agent = &self.agent;
        let response = with_retries(|| {
            agent
                .post(&*url)
                .header(HEADER_EXTENSION_IDENTIFIER, identifier)
                .header(HEADER_EXTENSION_ERROR_TYPE, error_type)
                .content_type("application/json")
                .send(body)
                .map_err(|source| ApiError::Transport { endpoint, source })
        })?;
        read_answer(endpoint, response, is_success, &mut Vec::new())
    }

    /// `PUT /2022-07-01/telemetry`: subscribes with `body` (the subscription JSON). Any 2xx is
    /// taken: Lambda answers 200, AWS's Runtime Interface Emulator 202 (and delivers nothing).
    /// Returns the status and the answer's body.
    pub fn subscribe_telemetry(
        &mut self,
        identifier: &str,
        body: &[u8],
    ) -> Result<(u16, Vec<u8>), ExtensionApiError> {
        const ENDPOINT: &str = "PUT /2022-07-01/telemetry";
        let url = endpoint_url(&mut self.url, &self.root, PATH_TELEMETRY);
        let agent = &self.agent;
        let response = with_retries(|| {
            agent
                .put(&*url)
                .header(HEADER_EXTENSION_IDENTIFIER, identifier)
                .content_type("application/json")
                .send(body)
                .map_err(|source| ApiError::Transport {
                    endpoint: ENDPOINT,
                    source,
                })
        })?;
        let status = response.status().as_u16();
        let mut answer = Vec::new();
        read_answer(ENDPOINT, response, is_success, &mut answer)?;
        Ok((status, answer))
    }
}

fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

/// Reads the answer's body into `into` (up to [`MAX_ANSWER_BYTES`]); a status `expected` refuses
/// becomes [`ExtensionApiError::Status`] with the start of the body.
fn read_answer(
    endpoint: &'static str,
    response: Response<ureq::Body>,
    expected: impl Fn(u16) -> bool,
    into: &mut Vec<u8>,
) -> Result<(), ExtensionApiError> {
    let status = response.status().as_u16();
    into.clear();
    let read = response
        .into_body()
        .into_with_config()
        .limit(MAX_ANSWER_BYTES)
        .reader()
        .read_to_end(into);
    if !expected(status) {
        let text = &into[..into.len().min(MAX_REFUSAL_BYTES)];
        return Err(ExtensionApiError::Status {
            endpoint,
            status,
            body: String::from_utf8_lossy(text).into_owned(),
        });
    }
    match read {
        Ok(_) => Ok(()),
        Err(e) => Err(ExtensionApiError::Transport {
            endpoint,
            source: ureq::Error::Io(e),
        }),
    }
}
