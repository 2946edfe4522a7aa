//! The invocation `Context`: what Lambda says about the current invocation (the `/next` headers)
//! and about the function (the environment).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[cfg(any(test, fuzzing))]
use http::HeaderMap;
use serde::Serialize;

use crate::error::HeaderError;
use crate::protocol::*;

/// Everything known about one invocation.
///
/// The runtime fills it from the `/next` answer's headers and from the environment. Build one
/// directly to unit-test a handler:
///
/// ```
/// let ctx = lambda_blocking_rt::Context {
///     request_id: "8476a536-e9f4-11e8-9739-2dfe598c3fcd".into(),
///     function_name: "my-fn".into(),
///     ..Default::default()
/// };
/// assert_eq!(ctx.remaining_time(), std::time::Duration::ZERO); // no deadline set
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Context {
    /// `Lambda-Runtime-Aws-Request-Id`.
    pub request_id: String,
    /// `Lambda-Runtime-Deadline-Ms`: the deadline in Unix epoch milliseconds (0 when absent).
    pub deadline_ms: u64,
    /// `Lambda-Runtime-Invoked-Function-Arn`.
    pub invoked_function_arn: String,
    /// `Lambda-Runtime-Trace-Id`. With one invocation at a time it is also set as
    /// `_X_AMZN_TRACE_ID` during the invocation; with several (`AWS_LAMBDA_MAX_CONCURRENCY` > 1)
    /// the environment is shared by every worker, so the trace id is only here.
    pub xray_trace_id: Option<String>,
    /// `Lambda-Runtime-Client-Context`, parsed (mobile SDK invocations).
    pub client_context: Option<serde_json::Value>,
    /// `Lambda-Runtime-Cognito-Identity`, parsed.
    pub identity: Option<serde_json::Value>,
    /// `Lambda-Runtime-Aws-Tenant-Id` (tenant-isolated functions).
    pub tenant_id: Option<String>,
    /// `Lambda-Runtime-Invocation-Id`: this attempt of the invocation (absent from older APIs).
    /// The runtime sends it back with the answer.
    pub invocation_id: Option<String>,
    /// `AWS_LAMBDA_FUNCTION_NAME`.
    pub function_name: String,
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` in MB (0 when unknown).
    pub memory_size_mb: u32,
    /// `AWS_LAMBDA_FUNCTION_VERSION`.
    pub function_version: String,
    /// `AWS_LAMBDA_LOG_GROUP_NAME`.
    pub log_group_name: String,
    /// `AWS_LAMBDA_LOG_STREAM_NAME`.
    pub log_stream_name: String,
    /// `AWS_REGION`.
    pub region: String,
    /// `AWS_LAMBDA_INITIALIZATION_TYPE`: `on-demand`, `provisioned-concurrency`, `snap-start`, ...
    pub initialization_type: String,
}

impl Context {
    /// The deadline as a point in time (the Unix epoch when no deadline was given).
    pub fn deadline(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.deadline_ms)
    }

    /// Time left before Lambda stops the invocation; zero once the deadline has passed.
    pub fn remaining_time(&self) -> Duration {
        self.deadline()
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO)
    }

    /// A context with the function-level fields read from the environment.
    pub(crate) fn from_env() -> Self {
        let var = |name| std::env::var(name).unwrap_or_default();
        Context {
            function_name: var(ENV_FUNCTION_NAME),
            memory_size_mb: var(ENV_MEMORY_SIZE).trim().parse().unwrap_or(0),
            function_version: var(ENV_FUNCTION_VERSION),
            log_group_name: var(ENV_LOG_GROUP),
            log_stream_name: var(ENV_LOG_STREAM),
            region: var(ENV_REGION),
            initialization_type: var(ENV_INITIALIZATION_TYPE),
            ..Context::default()
        }
    }

    /// Refills the per-invocation fields from a `/next` answer's headers, reusing the strings'
    /// buffers. Function-level fields are left as they are.
    ///
    /// The request id is set whenever one is present, even when a later header is invalid, so the
    /// invocation can still be answered with an error.
    #[cfg(any(test, fuzzing))]
    pub(crate) fn update_from_headers(&mut self, headers: &HeaderMap) -> Result<(), HeaderError> {
        self.update_from_header_pairs(headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes())))
    }

    /// [`Context::update_from_headers`] from (name, value) pairs, names in lower case: the
    /// `/next` answer's head as the client read it.
    pub(crate) fn update_from_header_pairs<'h>(
        &mut self,
        headers: impl Iterator<Item = (&'h str, &'h [u8])>,
    ) -> Result<(), HeaderError> {
        let found = NextHeaders::scan(headers);
        let text = |slot: usize| found.0[slot].and_then(|v| std::str::from_utf8(v).ok());

        self.request_id.clear();
        // Only HTTP whitespace is trimmed: the id is echoed in the answer's URL, and must name
        // the invocation Lambda sent even when it ends in other Unicode whitespace.
        let id = text(REQUEST_ID)
            .map(|v| v.trim_matches(HTTP_WHITESPACE))
            .unwrap_or("");
        if id.is_empty() {
            return Err(HeaderError::MissingRequestId);
        }
        self.request_id.push_str(id);

        self.deadline_ms = text(DEADLINE_MS)
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        self.invoked_function_arn.clear();
        self.invoked_function_arn
            .push_str(text(FUNCTION_ARN).unwrap_or(""));
        set_optional(&mut self.xray_trace_id, text(TRACE_ID));
        set_optional(&mut self.tenant_id, text(TENANT_ID));
        // Echoed as a header: a value that could not be sent back as one counts as absent.
        set_optional(
            &mut self.invocation_id,
            text(INVOCATION_ID)
                .map(|v| v.trim_matches(HTTP_WHITESPACE))
                .filter(|v| v.bytes().all(|b| b.is_ascii_graphic())),
        );
        // Cleared first, so a bad client context leaves no identity from the previous invocation.
        self.identity = None;
        self.client_context = parse_json(found.0[CLIENT_CONTEXT], HEADER_CLIENT_CONTEXT)?;
        self.identity = parse_json(found.0[COGNITO_IDENTITY], HEADER_COGNITO_IDENTITY)?;
        Ok(())
    }
}

// The slots of `NEXT_HEADERS`.
const REQUEST_ID: usize = 0;
const DEADLINE_MS: usize = 1;
const FUNCTION_ARN: usize = 2;
const TRACE_ID: usize = 3;
const TENANT_ID: usize = 4;
const INVOCATION_ID: usize = 5;
const CLIENT_CONTEXT: usize = 6;
const COGNITO_IDENTITY: usize = 7;

/// The values of [`NEXT_HEADERS`] in a `/next` answer; the first of each name wins, as with
/// `HeaderMap::get`.
struct NextHeaders<'h>([Option<&'h [u8]>; NEXT_HEADERS.len()]);

impl<'h> NextHeaders<'h> {
    /// One pass over the headers. Looking each name up with `HeaderMap::get(&str)` instead parses
    /// and hashes the name every time, for each of the eight names.
    fn scan(headers: impl Iterator<Item = (&'h str, &'h [u8])>) -> Self {
        let mut found = NextHeaders([None; NEXT_HEADERS.len()]);
        for (name, value) in headers {
            // Every name this runtime reads has this prefix.
            if !name.starts_with("lambda-runtime-") {
                continue;
            }
            if let Some(slot) = NEXT_HEADERS.iter().position(|known| *known == name) {
                found.0[slot].get_or_insert(value);
            }
        }
        found
    }
}

/// Optional whitespace around a header value (RFC 9110, section 5.6.3).
const HTTP_WHITESPACE: [char; 2] = [' ', '\t'];

/// Replaces `slot` with `value`, reusing the existing buffer; empty counts as absent.
fn set_optional(slot: &mut Option<String>, value: Option<&str>) {
    match value.filter(|v| !v.is_empty()) {
        Some(v) => {
            let s = slot.get_or_insert_with(String::new);
            s.clear();
            s.push_str(v);
        }
        None => *slot = None,
    }
}

fn parse_json(
    raw: Option<&[u8]>,
    name: &'static str,
) -> Result<Option<serde_json::Value>, HeaderError> {
    match raw.filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(raw) => serde_json::from_slice(raw)
            .map(Some)
            .map_err(|e| HeaderError::InvalidJson {
                header: name,
                reason: e.to_string(),
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn all_headers_fill_the_context() {
        let mut ctx = Context::default();
        let map = headers(&[
            ("Lambda-Runtime-Aws-Request-Id", "req-1"),
            ("Lambda-Runtime-Deadline-Ms", "1700000000123"),
            (
                "Lambda-Runtime-Invoked-Function-Arn",
                "arn:aws:lambda:eu-west-1:1:function:f",
            ),
            (
                "Lambda-Runtime-Trace-Id",
                "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1",
            ),
            (
                "Lambda-Runtime-Client-Context",
                r#"{"client":{"app_title":"x"}}"#,
            ),
            (
                "Lambda-Runtime-Cognito-Identity",
                r#"{"cognito_identity_id":"id"}"#,
            ),
            ("Lambda-Runtime-Aws-Tenant-Id", "tenant-a"),
            ("Lambda-Runtime-Invocation-Id", "inv-7"),
        ]);
        ctx.update_from_headers(&map).unwrap();
        assert_eq!(ctx.invocation_id.as_deref(), Some("inv-7"));
        assert_eq!(ctx.request_id, "req-1");
        assert_eq!(ctx.deadline_ms, 1_700_000_000_123);
        assert_eq!(
            ctx.deadline(),
            UNIX_EPOCH + Duration::from_millis(1_700_000_000_123)
        );
        assert_eq!(
            ctx.remaining_time(),
            Duration::ZERO,
            "a deadline in the past leaves no time"
        );
        assert_eq!(
            ctx.invoked_function_arn,
            "arn:aws:lambda:eu-west-1:1:function:f"
        );
        assert_eq!(
            ctx.xray_trace_id.as_deref(),
            Some("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1")
        );
        assert_eq!(
            ctx.client_context.as_ref().unwrap()["client"]["app_title"],
            "x"
        );
        assert_eq!(ctx.identity.as_ref().unwrap()["cognito_identity_id"], "id");
        assert_eq!(ctx.tenant_id.as_deref(), Some("tenant-a"));
    }

    #[test]
    fn optional_headers_absent_clear_previous_values() {
        let mut ctx = Context::default();
        ctx.update_from_headers(&headers(&[
            ("lambda-runtime-aws-request-id", "a"),
            ("lambda-runtime-trace-id", "Root=1"),
            ("lambda-runtime-aws-tenant-id", "t"),
            ("lambda-runtime-client-context", "{}"),
            ("lambda-runtime-invocation-id", "i"),
        ]))
        .unwrap();
        assert_eq!(ctx.invocation_id.as_deref(), Some("i"));
        ctx.update_from_headers(&headers(&[("lambda-runtime-aws-request-id", "b")]))
            .unwrap();
        assert_eq!(ctx.request_id, "b");
        assert_eq!(ctx.xray_trace_id, None);
        assert_eq!(ctx.tenant_id, None);
        assert_eq!(ctx.invocation_id, None);
        assert_eq!(ctx.client_context, None);
        assert_eq!(ctx.deadline_ms, 0);
    }

    #[test]
    fn missing_or_blank_request_id_is_refused() {
        let mut ctx = Context::default();
        assert_eq!(
            ctx.update_from_headers(&HeaderMap::new()),
            Err(HeaderError::MissingRequestId)
        );
        let blank = headers(&[("lambda-runtime-aws-request-id", "  ")]);
        assert_eq!(
            ctx.update_from_headers(&blank),
            Err(HeaderError::MissingRequestId)
        );
    }

    #[test]
    fn request_id_loses_only_http_whitespace() {
        // Found by the context_headers fuzz target: a value of "\u{a0}" (no-break space) was
        // trimmed to nothing and the invocation refused as unanswerable, and "id\u{a0}" was
        // answered as "id", which is another invocation.
        let mut ctx = Context::default();
        let id_with = |value: &[u8]| {
            let mut map = HeaderMap::new();
            map.insert(
                NEXT_HEADERS[REQUEST_ID],
                HeaderValue::from_bytes(value).unwrap(),
            );
            map
        };
        ctx.update_from_headers(&id_with(b" \t8476a536\t "))
            .unwrap();
        assert_eq!(ctx.request_id, "8476a536");
        ctx.update_from_headers(&id_with("\u{a0}".as_bytes()))
            .unwrap();
        assert_eq!(ctx.request_id, "\u{a0}");
        ctx.update_from_headers(&id_with("req\u{a0}\u{3000} ".as_bytes()))
            .unwrap();
        assert_eq!(ctx.request_id, "req\u{a0}\u{3000}");
    }

    #[test]
    fn invalid_json_header_keeps_request_id_for_the_error_report() {
        let mut ctx = Context::default();
        let map = headers(&[
            ("lambda-runtime-aws-request-id", "r"),
            ("lambda-runtime-cognito-identity", "{not json"),
        ]);
        let err = ctx.update_from_headers(&map).unwrap_err();
        assert!(
            matches!(
                err,
                HeaderError::InvalidJson {
                    header: HEADER_COGNITO_IDENTITY,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(ctx.request_id, "r");
    }

    #[test]
    fn a_bad_header_leaves_nothing_from_the_previous_invocation() {
        let mut ctx = Context::default();
        let first = headers(&[
            ("lambda-runtime-aws-request-id", "a"),
            ("lambda-runtime-cognito-identity", r#"{"id":"old"}"#),
        ]);
        ctx.update_from_headers(&first).unwrap();
        let second = headers(&[
            ("lambda-runtime-aws-request-id", "b"),
            ("lambda-runtime-client-context", "{broken"),
        ]);
        assert!(ctx.update_from_headers(&second).is_err());
        assert_eq!(ctx.request_id, "b");
        assert_eq!(ctx.identity, None, "the previous identity must not survive");
    }

    #[test]
    fn the_first_of_repeated_headers_wins_and_other_names_are_ignored() {
        let mut map = headers(&[("Lambda-Runtime-Aws-Request-Id", "first")]);
        map.append(
            "lambda-runtime-aws-request-id",
            HeaderValue::from_static("second"),
        );
        map.insert("x-lambda-runtime-trace-id", HeaderValue::from_static("no"));
        map.insert("lambda-runtime-unknown", HeaderValue::from_static("no"));
        let mut ctx = Context::default();
        ctx.update_from_headers(&map).unwrap();
        assert_eq!(ctx.request_id, "first");
        assert_eq!(ctx.xray_trace_id, None);
    }

    #[test]
    fn the_scan_reads_the_protocol_headers_in_lower_case_in_slot_order() {
        let protocol = [
            (REQUEST_ID, "Lambda-Runtime-Aws-Request-Id"),
            (DEADLINE_MS, "Lambda-Runtime-Deadline-Ms"),
            (FUNCTION_ARN, "Lambda-Runtime-Invoked-Function-Arn"),
            (TRACE_ID, "Lambda-Runtime-Trace-Id"),
            (TENANT_ID, "Lambda-Runtime-Aws-Tenant-Id"),
            (INVOCATION_ID, HEADER_INVOCATION_ID),
            (CLIENT_CONTEXT, HEADER_CLIENT_CONTEXT),
            (COGNITO_IDENTITY, HEADER_COGNITO_IDENTITY),
        ];
        for (slot, name) in protocol {
            assert_eq!(NEXT_HEADERS[slot], name.to_ascii_lowercase());
            assert!(NEXT_HEADERS[slot].starts_with("lambda-runtime-"));
        }
    }

    #[test]
    fn malformed_deadline_counts_as_absent() {
        let mut ctx = Context::default();
        let map = headers(&[
            ("lambda-runtime-aws-request-id", "r"),
            ("lambda-runtime-deadline-ms", "soon"),
        ]);
        ctx.update_from_headers(&map).unwrap();
        assert_eq!(ctx.deadline_ms, 0);
    }

    #[test]
    fn remaining_time_counts_down_to_a_future_deadline() {
        let in_a_minute = SystemTime::now() + Duration::from_secs(60);
        let ms = in_a_minute.duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
        let ctx = Context {
            deadline_ms: ms,
            ..Default::default()
        };
        let left = ctx.remaining_time();
        assert!(
            left > Duration::from_secs(55) && left <= Duration::from_secs(60),
            "{left:?}"
        );
    }
}
