//! Errors: the one a handler returns ([`Error`]), and how it is reported to Lambda.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;

/// An invocation's failure, as Lambda reports it to the caller: an `errorType` in
/// `Category.Reason` form and an `errorMessage`.
///
/// `?` converts any error into it: every `std::error::Error` that is `Send + Sync + 'static`,
/// `anyhow::Error`, `Box<dyn std::error::Error + Send + Sync>`, and `String` / `&str` messages.
/// The `errorType` is then the error's type name (a `ParseIntError` is reported as
/// `ParseIntError`, your `#[derive(thiserror::Error)] enum OrderError` as `OrderError`), or
/// `Error` for the types that carry no name of their own (`anyhow::Error`, `Box<dyn Error>`,
/// `String`, `&str`). To choose the type: [`Error::new`], or [`Error::with_type`] on a converted
/// error.
///
/// ```
/// use lambda_blocking_rt::Error;
///
/// fn parse(event: &[u8]) -> Result<u64, Error> {
///     let text = std::str::from_utf8(event)?; // errorType "Utf8Error"
///     if text.is_empty() {
///         return Err(Error::new("InvalidInput", "the event is empty"));
///     }
///     if text == "-" {
///         Err("a dash is no number")?; // errorType "Error"
///     }
///     let n: u64 = text.trim().parse()?; // errorType "ParseIntError"
///     std::fs::metadata(format!("/no/such/dir/{n}"))
///         .map_err(|e| Error::from(e).with_type("Storage.Missing"))?; // chosen errorType
///     Ok(n)
/// }
/// assert_eq!(parse(b"").unwrap_err().error_type(), "InvalidInput");
/// assert_eq!(parse(b"-").unwrap_err().error_type(), "Error");
/// assert_eq!(parse(b"x").unwrap_err().error_type(), "ParseIntError");
/// assert_eq!(parse(b"7").unwrap_err().error_type(), "Storage.Missing");
/// ```
///
/// It is not itself a `std::error::Error` (that would make the blanket conversion above
/// conflict with `From<T> for T`); it is `Display` and `Debug`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    error_type: Cow<'static, str>,
    message: String,
    /// The `stackTrace` lines: where a panic happened, and the error's chain of sources.
    stack_trace: Vec<String>,
    /// Where a panic happened, for the X-Ray cause's stack frame.
    location: Option<Location>,
}

/// A place in the source: `file:line:column`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Location {
    pub(crate) file: String,
    pub(crate) line: u32,
    pub(crate) column: u32,
}

impl Error {
    /// An error with the given `errorType` and `errorMessage`.
    pub fn new(error_type: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Error {
            error_type: error_type.into(),
            message: message.into(),
            stack_trace: Vec::new(),
            location: None,
        }
    }

    /// The same error reported with another `errorType`: for a converted error whose type name
    /// says too little (`Error::from(e).with_type("Orders.StoreUnavailable")`).
    pub fn with_type(mut self, error_type: impl Into<Cow<'static, str>>) -> Self {
        self.error_type = error_type.into();
        self
    }

    /// A panic's report: its message, and where it happened when known.
    pub(crate) fn panicked(
        error_type: &'static str,
        message: String,
        location: Option<Location>,
    ) -> Self {
        let mut error = Error::new(error_type, message);
        if let Some(at) = &location {
            error
                .stack_trace
                .push(format!("panicked at {}:{}:{}", at.file, at.line, at.column));
        }
        error.location = location;
        error
    }

    /// The `stackTrace` Lambda reports: `panicked at file:line:column` for a panic, and
    /// `caused by: ...` for each source of an error converted with `?`.
    pub fn stack_trace(&self) -> &[String] {
        &self.stack_trace
    }

    /// The `errorType` Lambda reports.
    pub fn error_type(&self) -> &str {
        &self.error_type
    }

    /// The `errorMessage` Lambda reports.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The same error with its message cut to at most `max_bytes` (on a character boundary),
    /// saying how much was cut: for a report the API refused as too large.
    pub(crate) fn truncated(&self, max_bytes: usize) -> Error {
        if self.message.len() <= max_bytes {
            return self.clone();
        }
        let mut end = max_bytes;
        while !self.message.is_char_boundary(end) {
            end -= 1;
        }
        let message = format!(
            "{}... [{} bytes cut]",
            &self.message[..end],
            self.message.len() - end
        );
        Error {
            message,
            ..self.clone()
        }
    }

    /// Serializes the error JSON body `{"errorType", "errorMessage", "stackTrace"}` into `out`.
    pub(crate) fn write_json(&self, out: &mut Vec<u8>) {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Body<'a> {
            error_type: &'a str,
            error_message: &'a str,
            stack_trace: &'a [String],
        }
        let body = Body {
            error_type: &self.error_type,
            error_message: &self.message,
            stack_trace: &self.stack_trace,
        };
        // Writing string fields into a Vec cannot fail: serde_json escapes every character.
        if serde_json::to_writer(&mut *out, &body).is_err() {
            out.clear();
            out.extend_from_slice(
                br#"{"errorType":"Runtime.Unknown","errorMessage":"","stackTrace":[]}"#,
            );
        }
    }

    /// Serializes the X-Ray cause document Lambda takes in `Lambda-Runtime-Function-Xray-Error-Cause`
    /// into `out`: `{"working_directory", "exceptions": [{"type", "message", "stack"}], "paths"}`,
    /// with a stack frame for a panic's location. Non-ASCII characters are written as `\u`
    /// escapes, so the document is a valid header value.
    pub(crate) fn write_xray_cause(&self, working_directory: &str, out: &mut Vec<u8>) {
        #[derive(Serialize)]
        struct Cause<'a> {
            working_directory: &'a str,
            exceptions: [Exception<'a>; 1],
            paths: &'a [&'a str],
        }
        #[derive(Serialize)]
        struct Exception<'a> {
            #[serde(rename = "type")]
            error_type: &'a str,
            message: &'a str,
            stack: &'a [Frame<'a>],
        }
        #[derive(Serialize)]
        struct Frame<'a> {
            path: &'a str,
            line: u32,
            label: &'a str,
        }
        let frame = self.location.as_ref().map(|at| Frame {
            path: &at.file,
            line: at.line,
            label: "panic",
        });
        let path = self.location.as_ref().map(|at| at.file.as_str());
        let cause = Cause {
            working_directory,
            exceptions: [Exception {
                error_type: &self.error_type,
                message: &self.message,
                stack: frame.as_slice(),
            }],
            paths: path.as_slice(),
        };
        let mut serializer = serde_json::Serializer::with_formatter(&mut *out, AsciiOnly);
        // Writing string fields into a Vec cannot fail.
        if cause.serialize(&mut serializer).is_err() {
            out.clear();
        }
    }

    /// The `errorType` as an HTTP header value: printable ASCII only, anything else becomes `?`.
    pub(crate) fn header_safe_type(&self) -> Cow<'_, str> {
        let printable = |c: char| c.is_ascii_graphic() || c == ' ';
        if !self.error_type.is_empty() && self.error_type.chars().all(printable) {
            Cow::Borrowed(&self.error_type)
        } else if self.error_type.is_empty() {
            Cow::Borrowed("Runtime.Unknown")
        } else {
            Cow::Owned(
                self.error_type
                    .chars()
                    .map(|c| if printable(c) { c } else { '?' })
                    .collect(),
            )
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error_type, self.message)
    }
}

/// `?` on any error: every `std::error::Error + Send + Sync + 'static`, `anyhow::Error`,
/// `Box<dyn std::error::Error + Send + Sync>`, and a `String` or `&str` message; all of them
/// convert into `Box<dyn std::error::Error + Send + Sync>`, which is the bound (as anyhow does
/// it: one blanket impl, which is why [`Error`] itself is not a `std::error::Error`).
///
/// The `errorType` is the error's type name without its path (`ParseIntError`); a type that
/// only carries some other error or a message (`anyhow::Error`, `Box<dyn Error>`, `String`,
/// `&str`) has no name worth reporting, and gives `Error`. The message is the error's `Display`
/// with the chain of sources appended, and each source is a `caused by:` line of `stackTrace`.
impl<E> From<E> for Error
where
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    fn from(error: E) -> Self {
        let error_type = error_type_of::<E>();
        let error: Box<dyn std::error::Error + Send + Sync> = error.into();
        let mut message = error.to_string();
        let mut stack_trace = Vec::new();
        let mut source = error.source();
        while let Some(cause) = source {
            let cause_text = cause.to_string();
            message.push_str(": ");
            message.push_str(&cause_text);
            stack_trace.push(format!("caused by: {cause_text}"));
            source = cause.source();
        }
        Error {
            error_type: Cow::Borrowed(error_type),
            message,
            stack_trace,
            location: None,
        }
    }
}

/// The `errorType` of an error converted with `?`: its type's name, or `Error` for the types
/// that wrap another error or a bare message.
fn error_type_of<E>() -> &'static str {
    match short_type_name::<E>() {
        // `String`, `&str`, `Box<str>`, `Cow<str>` messages; `Box<dyn Error + ...>`.
        "String" | "&str" | "str" | "Box" | "Cow" => "Error",
        name => name,
    }
}

/// JSON with every non-ASCII character escaped (`é` → `\u00e9`), for HTTP header values.
struct AsciiOnly;

impl serde_json::ser::Formatter for AsciiOnly {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut rest = fragment;
        while let Some(at) = rest.find(|c: char| !c.is_ascii()) {
            writer.write_all(&rest.as_bytes()[..at])?;
            let c = rest[at..].chars().next().unwrap_or_default();
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            rest = &rest[at + c.len_utf8()..];
        }
        writer.write_all(rest.as_bytes())
    }
}

/// `core::num::error::ParseIntError` → `ParseIntError`; `my::Wrapper<a::B>` → `Wrapper`.
fn short_type_name<T: ?Sized>() -> &'static str {
    let full = std::any::type_name::<T>();
    let without_generics = full.split('<').next().unwrap_or(full);
    without_generics
        .rsplit("::")
        .next()
        .unwrap_or(without_generics)
}

/// Why `AWS_LAMBDA_RUNTIME_API` could not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum AddressError {
    #[error(
        "AWS_LAMBDA_RUNTIME_API is not set: this program is a Lambda custom runtime and runs inside AWS Lambda or a local emulator (cargo lambda watch, the Runtime Interface Emulator), which set it"
    )]
    Missing,
    #[error(
        "AWS_LAMBDA_RUNTIME_API={0:?} is not a Runtime API address: expected host:port or http://host[:port][/prefix]"
    )]
    Invalid(String),
    #[error(
        "AWS_LAMBDA_RUNTIME_API={0:?} uses https, which this runtime does not speak: the Runtime API is plain http on the local host"
    )]
    Https(String),
}

/// `AWS_LAMBDA_MAX_CONCURRENCY` is set to something that is not a number of workers.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "AWS_LAMBDA_MAX_CONCURRENCY={0:?} is not a number of concurrent invocations: expected a whole number from 1 up (Lambda Managed Instances sets it), or leave it unset"
)]
pub(crate) struct ConcurrencyError(pub(crate) String);

/// Why a `/next` answer's headers could not become a `Context`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum HeaderError {
    /// Without a request id the invocation cannot be answered at all.
    #[error(
        "the /next answer has no usable Lambda-Runtime-Aws-Request-Id header, so the invocation cannot be answered"
    )]
    MissingRequestId,
    /// The invocation can be answered, but not handled.
    #[error("header {header} is not valid JSON: {reason}")]
    InvalidJson {
        header: &'static str,
        reason: String,
    },
}

/// A conversation with the Runtime API that did not go as the protocol says.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    /// The request or its answer did not make it (refused, reset, closed, cut off, garbled).
    /// Retried on a new connection when the network failed it (`client::network_failed`).
    #[error("{endpoint}: {source}")]
    Transport {
        endpoint: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// The Runtime API answered with a status that means the environment is broken or gone.
    #[error("{endpoint} answered HTTP {status}: {body}")]
    Fatal {
        endpoint: &'static str,
        status: u16,
        body: String,
    },
    /// The `/next` answer came without a request id, so the invocation cannot be answered.
    #[error("GET /next: {0}")]
    Unanswerable(HeaderError),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(error: &Error) -> serde_json::Value {
        let mut out = Vec::new();
        error.write_json(&mut out);
        serde_json::from_slice(&out).expect("error body is valid JSON")
    }

    #[test]
    fn a_panic_carries_its_location_in_the_stack_trace_and_the_xray_cause() {
        let at = Location {
            file: "src/main.rs".into(),
            line: 12,
            column: 5,
        };
        let e = Error::panicked("Runtime.HandlerPanic", "boom é".into(), Some(at));
        assert_eq!(
            json(&e)["stackTrace"],
            serde_json::json!(["panicked at src/main.rs:12:5"])
        );
        let mut out = Vec::new();
        e.write_xray_cause("/var/task", &mut out);
        assert!(out.is_ascii(), "{}", String::from_utf8_lossy(&out));
        let cause: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            cause,
            serde_json::json!({
                "working_directory": "/var/task",
                "exceptions": [{
                    "type": "Runtime.HandlerPanic",
                    "message": "boom é",
                    "stack": [{"path": "src/main.rs", "line": 12, "label": "panic"}]
                }],
                "paths": ["src/main.rs"]
            })
        );
    }

    #[test]
    fn xray_cause_escapes_every_non_ascii_character() {
        let mut out = Vec::new();
        Error::new("T", "😀 \u{7f} ü").write_xray_cause("/", &mut out);
        assert!(out.is_ascii());
        let cause: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(cause["exceptions"][0]["message"], "😀 \u{7f} ü");
        assert_eq!(cause["exceptions"][0]["stack"], serde_json::json!([]));
        assert_eq!(cause["paths"], serde_json::json!([]));
    }

    #[test]
    fn serializes_type_message_and_empty_stack_trace() {
        let v = json(&Error::new("DemoError", "boom"));
        assert_eq!(
            v,
            serde_json::json!({"errorType": "DemoError", "errorMessage": "boom", "stackTrace": []})
        );
    }

    #[test]
    fn control_characters_and_quotes_stay_valid_json() {
        let nasty = "quote\" backslash\\ nl\n nul\u{0} bell\u{7} \u{fffd} é 😀";
        let v = json(&Error::new("T", nasty));
        assert_eq!(v["errorMessage"], nasty);
    }

    #[test]
    fn std_errors_take_their_type_name() {
        let e: Error = "x".parse::<u32>().unwrap_err().into();
        assert_eq!(e.error_type(), "ParseIntError");
        assert_eq!(e.message(), "invalid digit found in string");
        let e: Error = serde_json::from_str::<u8>("[").unwrap_err().into();
        assert_eq!(e.error_type(), "Error");
    }

    #[test]
    fn question_mark_works_on_anyhow_boxed_errors_and_messages() {
        fn anyhow_error() -> Result<(), Error> {
            let inner = anyhow::Error::new("x".parse::<u8>().unwrap_err());
            Err(inner.context("reading the count"))?;
            Ok(())
        }
        fn boxed_error() -> Result<(), Error> {
            let boxed: Box<dyn std::error::Error + Send + Sync> =
                "y".parse::<u8>().unwrap_err().into();
            Err(boxed)?;
            Ok(())
        }
        fn string_message() -> Result<(), Error> {
            Err(format!("no item {}", 7))?;
            Ok(())
        }
        fn str_message() -> Result<(), Error> {
            Err("no items at all")?;
            Ok(())
        }
        let e = anyhow_error().unwrap_err();
        assert_eq!(e.error_type(), "Error");
        assert_eq!(
            e.message(),
            "reading the count: invalid digit found in string"
        );
        assert_eq!(
            e.stack_trace(),
            ["caused by: invalid digit found in string"]
        );
        let e = boxed_error().unwrap_err();
        assert_eq!(e.error_type(), "Error");
        assert_eq!(e.message(), "invalid digit found in string");
        let e = string_message().unwrap_err();
        assert_eq!((e.error_type(), e.message()), ("Error", "no item 7"));
        assert!(e.stack_trace().is_empty());
        let e = str_message().unwrap_err();
        assert_eq!((e.error_type(), e.message()), ("Error", "no items at all"));
    }

    #[test]
    fn with_type_chooses_the_error_type_and_keeps_the_rest() {
        let e = Error::from(anyhow::anyhow!("store down")).with_type("Orders.StoreUnavailable");
        assert_eq!(e.error_type(), "Orders.StoreUnavailable");
        assert_eq!(e.message(), "store down");
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let e = Error::from(io);
        assert_eq!((e.error_type(), e.message()), ("Error", "gone"));
    }

    #[test]
    fn error_sources_are_appended_to_the_message() {
        #[derive(Debug)]
        struct Outer(std::num::ParseIntError);
        impl fmt::Display for Outer {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("could not read the count")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let e: Error = Outer("-".parse::<u8>().unwrap_err()).into();
        assert_eq!(e.error_type(), "Outer");
        assert_eq!(
            e.message(),
            "could not read the count: invalid digit found in string"
        );
        assert_eq!(
            e.stack_trace(),
            ["caused by: invalid digit found in string"]
        );
        assert_eq!(
            json(&e)["stackTrace"],
            serde_json::json!(["caused by: invalid digit found in string"])
        );
    }

    #[test]
    fn truncation_keeps_type_and_cuts_on_a_char_boundary() {
        let e = Error::new("Big", "é".repeat(10));
        let short = e.truncated(5);
        assert_eq!(short.error_type(), "Big");
        assert_eq!(short.message(), "éé... [16 bytes cut]");
        assert_eq!(
            Error::new("T", "short").truncated(5),
            Error::new("T", "short")
        );
    }

    #[test]
    fn header_type_is_printable_ascii() {
        assert_eq!(Error::new("A.B", "").header_safe_type(), "A.B");
        assert_eq!(
            Error::new("bad\r\nX: y", "").header_safe_type(),
            "bad??X: y"
        );
        assert_eq!(Error::new("", "").header_safe_type(), "Runtime.Unknown");
    }
}
