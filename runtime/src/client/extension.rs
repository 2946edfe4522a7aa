//! The Extensions API (`/2020-01-01/extension`) and the Telemetry API (`/2022-07-01/telemetry`):
//! the same host, the same hand-written HTTP layer (`direct`), limits and retry policy as the
//! Runtime API, on a kept connection of its own; one function per endpoint, the path beside it.
//!
//! Used by the runtime for its internal extension (see `shutdown`), and, through the hidden
//! `lambda_blocking_rt::extension_api` module, by the `lambda-blocking-ext` crate.

use std::io;

use super::{BaseUrl, direct};
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
        source: io::Error,
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
    connection: direct::Connection,
}

impl ExtensionApi {
    pub(crate) fn new(base: &BaseUrl) -> ExtensionApi {
        ExtensionApi {
            connection: direct::Connection::new(base),
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
        let headers = [
            (HEADER_EXTENSION_NAME, name.as_bytes()),
            (CONTENT_TYPE, JSON),
            (HEADER_EXTENSION_ACCEPT_FEATURE, b"accountId".as_slice()),
        ];
        let headers = &headers[..if accept_account_id { 3 } else { 2 }];
        let mut answer = Vec::new();
        let sent = self.call(
            ENDPOINT,
            "POST",
            PATH_EXTENSION_REGISTER,
            headers,
            Some(&body),
            &mut answer,
        );
        let identifier = self
            .connection
            .answer_headers()
            .pairs()
            .find(|(name, _)| name.eq_ignore_ascii_case(HEADER_EXTENSION_IDENTIFIER))
            .and_then(|(_, value)| std::str::from_utf8(value).ok())
            .filter(|v| !v.is_empty())
            .map(str::to_owned);
        check_answer(ENDPOINT, sent?, |s| s == 200, &answer)?;
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
        let headers = [(HEADER_EXTENSION_IDENTIFIER, identifier.as_bytes())];
        let sent = self.call(ENDPOINT, "GET", PATH_EXTENSION_NEXT, &headers, None, event);
        check_answer(ENDPOINT, sent?, |s| s == 200, event)
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
        let headers = [
            (HEADER_EXTENSION_IDENTIFIER, identifier.as_bytes()),
            (HEADER_EXTENSION_ERROR_TYPE, error_type.as_bytes()),
            (CONTENT_TYPE, JSON),
        ];
        let mut answer = Vec::new();
        let sent = self.call(endpoint, "POST", path, &headers, Some(body), &mut answer);
        check_answer(endpoint, sent?, is_success, &answer)
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
        let headers = [
            (HEADER_EXTENSION_IDENTIFIER, identifier.as_bytes()),
            (CONTENT_TYPE, JSON),
        ];
        let mut answer = Vec::new();
        let sent = self.call(
            ENDPOINT,
            "PUT",
            PATH_TELEMETRY,
            &headers,
            Some(body),
            &mut answer,
        );
        let (status, body_error) = sent?;
        check_answer(ENDPOINT, (status, body_error), is_success, &answer)?;
        Ok((status, answer))
    }

    /// Sends a request, again on a new connection while the network fails it (statuses and
    /// failures of this runtime's own limits are not sent again); its answer's body in `into`.
    fn call(
        &mut self,
        endpoint: &'static str,
        method: &str,
        path: &str,
        headers: &[(&str, &[u8])],
        body: Option<&[u8]>,
        into: &mut Vec<u8>,
    ) -> Result<(u16, Option<io::Error>), ExtensionApiError> {
        let connection = &mut self.connection;
        Ok(with_retries(|| {
            connection
                .request(method, path, headers, body, into, MAX_ANSWER_BYTES)
                .map_err(|source| ApiError::Transport { endpoint, source })
        })?)
    }
}

const CONTENT_TYPE: &str = "Content-Type";
const JSON: &[u8] = b"application/json";

fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

/// What an answer means: a status `expected` refuses becomes [`ExtensionApiError::Status`] with
/// the start of the body; otherwise a body cut short is the failure.
fn check_answer(
    endpoint: &'static str,
    (status, body_error): (u16, Option<io::Error>),
    expected: impl Fn(u16) -> bool,
    body: &[u8],
) -> Result<(), ExtensionApiError> {
    if !expected(status) {
        let text = &body[..body.len().min(MAX_REFUSAL_BYTES)];
        return Err(ExtensionApiError::Status {
            endpoint,
            status,
            body: String::from_utf8_lossy(text).into_owned(),
        });
    }
    match body_error {
        None => Ok(()),
        Some(source) => Err(ExtensionApiError::Transport { endpoint, source }),
    }
}
