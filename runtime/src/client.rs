//! The HTTP conversation with the Runtime API: one function per endpoint, over one keep-alive
//! connection.

use std::io::{self, Read};

use crate::Error;
use crate::error::ApiError;
use crate::protocol::*;

/// The largest event body read from `/next`; Lambda's own limit is 6 MB.
const MAX_EVENT_BYTES: u64 = 128 * 1024 * 1024;

/// How the Runtime API took a posted response or error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Posted {
    /// 2xx: the invocation is answered.
    Accepted,
    /// 413: the body is larger than the API accepts.
    TooLarge,
    /// 410: the invocation already timed out (or this attempt was superseded); its answer is
    /// refused, and the environment is fine.
    Gone,
    /// Another 4xx (400 bad request, 403 forbidden, 404 unknown request id): this post was
    /// refused, the environment is fine.
    Refused(u16),
}

/// Which invocation, and which attempt of it, an answer is for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Invocation<'a> {
    pub(crate) request_id: &'a str,
    pub(crate) invocation_id: Option<&'a str>,
}

impl<'a> Invocation<'a> {
    /// The invocation `ctx` describes.
    pub(crate) fn of(ctx: &'a crate::Context) -> Self {
        Invocation {
            request_id: &ctx.request_id,
            invocation_id: ctx.invocation_id.as_deref(),
        }
    }
}

/// A `/next` answer: the event's length, and whether the whole event arrived. Its headers are
/// [`RuntimeApi::next_headers`].
pub(crate) struct NextAnswer {
    /// The event is `event[..event_len]` of the buffer given to `next_invocation`.
    pub(crate) event_len: usize,
    /// Set when the body was cut off; the event in the buffer is then incomplete.
    pub(crate) body_error: Option<io::Error>,
}

/// What `/next` gave.
pub(crate) enum Next {
    /// An invocation, read.
    Event(NextAnswer),
    /// An invocation was handed out, but its answer's head is over the limits it is read with
    /// (64 KiB, 128 headers); what could be found of its ids in the part that arrived.
    Unreadable {
        request_id: Option<String>,
        invocation_id: Option<String>,
        reason: String,
    },
}

mod direct;
use direct::PostTarget;
pub(crate) mod extension;
mod streamed;
mod wire;
pub(crate) use streamed::{Finished, StreamTarget, StreamedResponse};
pub(crate) use wire::{BaseUrl, network_failed};

pub(crate) struct RuntimeApi {
    /// Every request of the Runtime API but a streamed response's (see `direct`).
    invocations: direct::Connection,
    base: BaseUrl,
    /// Streamed responses go out on a connection of their own (see `streamed`).
    pub(crate) stream_target: StreamTarget,
}

impl RuntimeApi {
    pub(crate) fn new(base: BaseUrl) -> Self {
        RuntimeApi {
            invocations: direct::Connection::new(&base),
            stream_target: StreamTarget::new(&base),
            base,
        }
    }

    /// `GET /runtime/invocation/next`: waits for the next event and reads its body into the
    /// front of `event` (see [`read_event`]; the answer says how long it is).
    pub(crate) fn next_invocation(
        &mut self,
        event: &mut Vec<u8>,
        while_waiting: &mut dyn FnMut(),
    ) -> Result<Next, ApiError> {
        const ENDPOINT: &str = "GET /runtime/invocation/next";
        let read = self
            .invocations
            .next(event, while_waiting)
            .map_err(|e| transport(ENDPOINT, e))?;
        match read {
            direct::NextRead::Next(next) => Ok(next),
            direct::NextRead::Status(status, body) => Err(ApiError::Fatal {
                endpoint: ENDPOINT,
                status,
                body,
            }),
        }
    }

    /// The headers of the last invocation `/next` gave, names in lower case.
    pub(crate) fn next_headers(&self) -> wire::RawHeaders<'_> {
        self.invocations.answer_headers()
    }

    /// `POST /runtime/invocation/{request-id}/response`: the handler's response, as raw bytes,
    /// with the attempt's `Lambda-Runtime-Invocation-Id` when `/next` gave one.
    pub(crate) fn post_response(
        &mut self,
        invocation: &Invocation<'_>,
        body: &[u8],
    ) -> Result<Posted, ApiError> {
        const ENDPOINT: &str = "POST /runtime/invocation/{id}/response";
        let target = PostTarget::Invocation(invocation, PATH_RESPONSE_SUFFIX);
        posted(ENDPOINT, self.invocations.post(target, &[], body))
    }

    /// `POST /runtime/invocation/{request-id}/error`: the error JSON, its type also as a header,
    /// with the attempt's `Lambda-Runtime-Invocation-Id` when `/next` gave one. `scratch` holds
    /// the serialized body.
    pub(crate) fn post_error(
        &mut self,
        invocation: &Invocation<'_>,
        error: &Error,
        scratch: &mut Vec<u8>,
    ) -> Result<Posted, ApiError> {
        const ENDPOINT: &str = "POST /runtime/invocation/{id}/error";
        let head_bytes = self.base.as_str().len()
            + PATH_INVOCATION.len()
            + 3 * invocation.request_id.len()
            + invocation.invocation_id.map_or(0, str::len);
        let target = PostTarget::Invocation(invocation, PATH_ERROR_SUFFIX);
        let sent = send_error(&mut self.invocations, target, head_bytes, error, scratch);
        posted(ENDPOINT, sent)
    }

    /// `POST /runtime/init/error`: the function could not start.
    pub(crate) fn report_init_error(&mut self, error: &Error) -> Result<Posted, ApiError> {
        const ENDPOINT: &str = "POST /runtime/init/error";
        let head_bytes = self.base.as_str().len() + PATH_INIT_ERROR.len();
        let sent = send_error(
            &mut self.invocations,
            PostTarget::InitError,
            head_bytes,
            error,
            &mut Vec::new(),
        );
        posted(ENDPOINT, sent)
    }

    /// Whether an invocation with this request id can be answered at all (see
    /// [`BaseUrl::can_address`]).
    pub(crate) fn can_address(&self, request_id: &str) -> bool {
        self.base.can_address(request_id)
    }
}

/// A request the connection failed: the retry loop sends it again on a new one when the network
/// failed it (see [`network_failed`]).
fn transport(endpoint: &'static str, source: io::Error) -> ApiError {
    ApiError::Transport { endpoint, source }
}

/// How much of the buffer an event is given before its bytes arrive: the `Content-Length` up to
/// this. Past it, the buffer grows as bytes come, doubling, so memory follows the bytes
/// received, not the bytes claimed (a `/next` that claims 100 MiB and sends 10 bytes costs
/// 256 KiB, not 100 MiB).
const EVENT_BYTES_BEFORE_ARRIVAL: usize = 256 * 1024;

/// Reads a body into the front of `buffer`, returning its length and the error that cut it
/// short, if any. The buffer's bytes are kept initialized from one event to the next (its
/// length only grows): `read_to_end` into a cleared `Vec` zeroes the space before every read,
/// a `memset` of the whole event per invocation. It grows to `expected` (the `Content-Length`,
/// up to the event limit) as the bytes arrive (see [`EVENT_BYTES_BEFORE_ARRIVAL`]), or doubles
/// when the length is not known.
fn read_event(
    reader: &mut impl Read,
    expected: Option<u64>,
    buffer: &mut Vec<u8>,
) -> (usize, Option<io::Error>) {
    let expected = expected.map_or(0, |e| e.min(MAX_EVENT_BYTES) as usize);
    let ahead = expected.min(EVENT_BYTES_BEFORE_ARRIVAL);
    if buffer.len() < ahead {
        buffer.resize(ahead, 0);
    }
    let mut len = 0;
    loop {
        if len == buffer.len() && len < expected {
            // Full, and more is announced: room for twice what came, up to what is announced.
            buffer.resize((2 * len).max(EVENT_BYTES_BEFORE_ARRIVAL).min(expected), 0);
        }
        let read = if len < buffer.len() {
            reader.read(&mut buffer[len..])
        } else {
            // Full. Most often the body is exactly as long as announced and the next read only
            // says it ended: it goes to a small buffer, and the event's buffer grows (doubling,
            // zeroed, so touched) only when more did come.
            let mut probe = [0u8; 256];
            match reader.read(&mut probe) {
                Ok(n) if n > 0 => {
                    buffer.resize((2 * len).max(len + n).max(8 * 1024), 0);
                    buffer[len..len + n].copy_from_slice(&probe[..n]);
                    Ok(n)
                }
                other => other,
            }
        };
        match read {
            Ok(0) => return (len, None),
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (len, Some(e)),
        }
    }
}

/// The largest X-Ray cause document the API takes: larger ones are left out, as the AWS runtimes
/// do. The head bounds it further (see [`cause_room`]).
const MAX_XRAY_CAUSE_BYTES: usize = 1024 * 1024;

/// The longest error type sent in the `Lambda-Runtime-Function-Error-Type` header (the body has
/// it whole): a type is a short name, and the header must leave the head room.
const MAX_ERROR_TYPE_HEADER_BYTES: usize = 1024;

/// Room for the head's fixed part: the request line's method and version, `Host`,
/// `User-Agent`, `Content-Type`, `Content-Length` and the header names.
const FIXED_HEAD_BYTES: usize = 1024;

/// The longest request head an error report is given: the X-Ray cause goes in the head, and
/// an HTTP server bounds the heads it reads (the Runtime API's own limit is not documented;
/// this is the bound this runtime has always kept).
const MAX_ERROR_HEAD_BYTES: usize = 128 * 1024;

/// How long the X-Ray cause document may be so that the request's head, the cause in it, stays
/// within [`MAX_ERROR_HEAD_BYTES`], given the bytes the rest of the head takes.
fn cause_room(other_head_bytes: usize) -> usize {
    MAX_ERROR_HEAD_BYTES
        .saturating_sub(other_head_bytes + MAX_ERROR_TYPE_HEADER_BYTES + FIXED_HEAD_BYTES)
        .min(MAX_XRAY_CAUSE_BYTES)
}

/// Sends `error` as the error JSON (serialized into `scratch`), its type also as a header, and
/// its X-Ray cause document as `Lambda-Runtime-Function-Xray-Error-Cause`: whole when it fits
/// the head (`head_bytes` is what the URL and the invocation id take of it), else with the
/// message cut to fit, else left out. The body has the whole message in any case.
fn send_error(
    connection: &mut direct::Connection,
    target: PostTarget<'_>,
    head_bytes: usize,
    error: &Error,
    scratch: &mut Vec<u8>,
) -> io::Result<(u16, String)> {
    let room = cause_room(head_bytes);
    scratch.clear();
    error.write_xray_cause(working_directory(), scratch);
    if scratch.len() > room {
        // Cut so that even a message escaped at 6 bytes a byte (`\u0001`) fits, with room for
        // the rest of the document.
        scratch.clear();
        let short = error.truncated((room / 6).saturating_sub(4096));
        short.write_xray_cause(working_directory(), scratch);
        if scratch.len() > room {
            scratch.clear();
        }
    }
    let cause_len = scratch.len();
    error.write_json(scratch);
    let (cause, body) = scratch.split_at(cause_len);
    let error_type = error.header_safe_type();
    // Printable ASCII: cut anywhere.
    let error_type = &error_type.as_bytes()[..error_type.len().min(MAX_ERROR_TYPE_HEADER_BYTES)];
    let headers = [
        (HEADER_ERROR_TYPE, error_type),
        ("Content-Type", b"application/json".as_slice()),
        // The document is ASCII JSON (non-ASCII characters escaped), so always a valid header
        // value.
        (HEADER_XRAY_ERROR_CAUSE, cause),
    ];
    let with_cause = if cause.is_empty() { 2 } else { 3 };
    connection.post(target, &headers[..with_cause], body)
}

/// The process's working directory, for X-Ray causes: read once.
fn working_directory() -> &'static str {
    static CWD: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    CWD.get_or_init(|| {
        std::env::current_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_default()
    })
}

/// What a POST's answer means (see [`wire::posted`]); a server error ends the runtime.
fn posted(endpoint: &'static str, answer: io::Result<(u16, String)>) -> Result<Posted, ApiError> {
    let (status, body) = answer.map_err(|e| transport(endpoint, e))?;
    wire::posted(status).ok_or(ApiError::Fatal {
        endpoint,
        status,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads from `data`, then fails with `error` if given.
    struct Body<'a> {
        data: &'a [u8],
        error: Option<io::ErrorKind>,
    }

    impl Read for Body<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.data.is_empty() {
                return self.error.take().map_or(Ok(0), |kind| Err(kind.into()));
            }
            // At most 5 bytes a read, so bodies take several.
            let n = buf.len().min(self.data.len()).min(5);
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    fn body(data: &[u8]) -> Body<'_> {
        Body { data, error: None }
    }

    #[test]
    fn events_are_read_to_the_front_of_a_buffer_that_keeps_its_bytes() {
        let mut buffer = Vec::new();
        assert_eq!(
            read_event(&mut body(b"first event"), Some(11), &mut buffer).0,
            11
        );
        assert_eq!(&buffer[..11], b"first event");
        // A shorter event: its length says where it ends; the buffer is not cleared.
        let (len, error) = read_event(&mut body(b"second"), Some(6), &mut buffer);
        assert_eq!((&buffer[..len], error.is_none()), (&b"second"[..], true));
        assert!(buffer.len() >= 11);
        // An empty event.
        assert_eq!(read_event(&mut body(b""), Some(0), &mut buffer).0, 0);
    }

    #[test]
    fn an_event_as_long_as_announced_does_not_grow_the_buffer_past_it() {
        let event = [7u8; 3000];
        let mut buffer = Vec::new();
        let (len, error) = read_event(&mut body(&event), Some(3000), &mut buffer);
        assert_eq!((len, error.is_none()), (3000, true));
        assert_eq!(buffer.len(), 3000);
    }

    #[test]
    fn events_of_unknown_or_wrongly_announced_length_are_read_whole() {
        let long: Vec<u8> = (0..20_000u32).map(|i| i as u8).collect();
        let mut buffer = Vec::new();
        let (len, error) = read_event(&mut body(&long), None, &mut buffer);
        assert_eq!((&buffer[..len], error.is_none()), (&long[..], true));
        let mut buffer = Vec::new();
        let (len, _) = read_event(&mut body(&long), Some(10), &mut buffer);
        assert_eq!(&buffer[..len], &long[..]);
    }

    #[test]
    fn a_body_cut_off_gives_what_arrived_and_the_error() {
        let mut buffer = Vec::new();
        let mut cut = Body {
            data: b"{\"partial",
            error: Some(io::ErrorKind::UnexpectedEof),
        };
        let (len, error) = read_event(&mut cut, Some(100), &mut buffer);
        assert_eq!(&buffer[..len], b"{\"partial");
        assert_eq!(error.map(|e| e.kind()), Some(io::ErrorKind::UnexpectedEof));
    }

    /// A Runtime API that answers its first request with `answer` (after reading the head).
    fn answering_api(answer: Vec<u8>) -> RuntimeApi {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        std::thread::spawn(move || {
            let (mut connection, _) = listener.accept().unwrap();
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && connection.read(&mut byte).unwrap() == 1 {
                head.push(byte[0]);
            }
            std::io::Write::write_all(&mut connection, &answer).unwrap();
            // Held open until the other side is done with it.
            let _ = connection.read(&mut byte);
        });
        RuntimeApi::new(crate::config::base_url(&address).unwrap())
    }

    #[test]
    fn a_next_answer_with_too_many_headers_is_unreadable_with_its_ids_found() {
        let mut answer = b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: many-1\r\n".to_vec();
        for i in 0..130 {
            answer.extend_from_slice(format!("X-Filler-{i}: {i}\r\n").as_bytes());
        }
        answer.extend_from_slice(
            b"Lambda-Runtime-Invocation-Id: try-2\r\nContent-Length: 2\r\n\r\n{}",
        );
        let mut api = answering_api(answer);
        match api.next_invocation(&mut Vec::new(), &mut || {}) {
            Ok(Next::Unreadable {
                request_id,
                invocation_id,
                reason,
            }) => {
                assert_eq!(request_id.as_deref(), Some("many-1"));
                assert_eq!(invocation_id.as_deref(), Some("try-2"));
                assert!(reason.contains("too many headers"), "{reason}");
            }
            Ok(Next::Event(_)) => panic!("read as an event"),
            Err(e) => panic!("failed as {e}"),
        }
    }

    #[test]
    fn a_next_answer_head_over_64_kib_is_unreadable_and_not_a_network_failure() {
        let mut answer = b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: big-1\r\n".to_vec();
        answer.extend_from_slice(format!("X-Big: {}\r\n", "b".repeat(70_000)).as_bytes());
        answer.extend_from_slice(b"Content-Length: 2\r\n\r\n{}");
        let mut api = answering_api(answer);
        match api.next_invocation(&mut Vec::new(), &mut || {}) {
            Ok(Next::Unreadable { request_id, .. }) => {
                assert_eq!(request_id.as_deref(), Some("big-1"))
            }
            Ok(Next::Event(_)) => panic!("read as an event"),
            Err(e) => panic!("failed as {e}"),
        }
    }

    #[test]
    fn a_request_no_http_server_could_take_is_not_a_network_failure() {
        // A header value with a line break would end the header early: it is never sent, and
        // sending it again would not help.
        let api = answering_api(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n".to_vec());
        let mut extensions = extension::ExtensionApi::new(&api.base);
        let error = extensions
            .register("name\r\nX-Injected: 1", &[], false)
            .expect_err("a header value with a line break");
        let extension::ExtensionApiError::Transport { source, .. } = &error else {
            panic!("not refused before sending: {error}");
        };
        assert!(!network_failed(source), "{error}");
        let refused = io::Error::from(io::ErrorKind::ConnectionReset);
        assert!(network_failed(&refused));
    }

    #[test]
    fn an_extension_answer_head_over_64_kib_is_not_sent_again() {
        let mut answer = b"HTTP/1.1 200 OK\r\nLambda-Extension-Identifier: x\r\n".to_vec();
        answer.extend_from_slice(format!("X-Big: {}\r\n", "b".repeat(70_000)).as_bytes());
        answer.extend_from_slice(b"Content-Length: 2\r\n\r\n{}");
        let api = answering_api(answer);
        let mut extensions = extension::ExtensionApi::new(&api.base);
        let started = std::time::Instant::now();
        let error = extensions
            .register("ext", &[], false)
            .expect_err("a head over the limits");
        let extension::ExtensionApiError::Transport { source, .. } = &error else {
            panic!("not a transport failure: {error}");
        };
        assert!(!network_failed(source), "{error}");
        assert!(error.to_string().contains("over 64 KiB"), "{error}");
        // Not retried: the retry loop would have kept trying for seconds.
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn an_error_report_of_any_size_fits_the_head() {
        // The head must fit the output buffer whatever the message: the cause is cut or left out.
        let api = answering_api(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n".to_vec());
        let mut api = api;
        let error = Error::new("Big", "😀".repeat(200_000));
        let invocation = Invocation {
            request_id: "r-1",
            invocation_id: None,
        };
        let posted = api.post_error(&invocation, &error, &mut Vec::new());
        assert!(matches!(posted, Ok(Posted::Accepted)), "{posted:?}");
    }
}
