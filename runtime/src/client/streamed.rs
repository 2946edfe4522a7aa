//! `POST /runtime/invocation/{request-id}/response` in streaming mode: the body sent as HTTP
//! chunks while the handler writes it, and an error after the first byte sent as HTTP request
//! trailers.
//!
//! Written by hand on a socket of its own, not through ureq: ureq 3 sends a chunked body from a
//! reader and always ends it with an empty trailer section, so the error trailers Lambda reads
//! (`Lambda-Runtime-Function-Error-Type`, `Lambda-Runtime-Function-Error-Body`) cannot be sent
//! through it, and its transport traits are not public API to write them on. The framing is
//! small: a head, `{size:x}\r\n{bytes}\r\n` per chunk, `0\r\n{trailers}\r\n` at the end, then
//! one short answer to read. The connection is kept for the next streamed response of this
//! worker (HTTP/1.1 keep-alive, as the Runtime API expects), unless the API closes it.

use std::io::{self, Write};
use std::net::{TcpStream, ToSocketAddrs};

use crate::Error;
use crate::client::{BaseUrl, Invocation, Posted, direct, wire};
use crate::error::ApiError;
use crate::protocol::*;

/// Lambda's largest streamed response: 200 MiB. A handler that writes more gets its stream
/// ended with the error `Function.ResponseSizeTooLarge`.
pub(crate) const MAX_STREAM_BYTES: u64 = 200 * 1024 * 1024;

const ENDPOINT: &str = "POST /runtime/invocation/{id}/response (streaming)";
/// The content type of a stream when the handler chooses none.
pub(crate) const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// Where streamed responses go, and the connection kept between them.
pub(crate) struct StreamTarget {
    /// `host:port`.
    authority: String,
    /// The path every endpoint is under, e.g. `/2018-06-01` or `/.rt/fn/2018-06-01`.
    path_base: String,
    connection: Option<TcpStream>,
    /// The chunk-framing buffer, kept from one stream to the next: a new one per stream cost
    /// 35 page faults and half of the time to first byte (benches/streaming).
    frame: Vec<u8>,
}

impl StreamTarget {
    pub(crate) fn new(base: &BaseUrl) -> StreamTarget {
        StreamTarget {
            authority: base.host_port(),
            path_base: base.path().to_owned(),
            connection: None,
            frame: Vec::new(),
        }
    }

    /// The kept connection if it is still open, else a new one.
    fn connection(&mut self) -> io::Result<&mut TcpStream> {
        let alive = self.connection.as_ref().is_some_and(still_open);
        if !alive {
            self.connection = Some(wire::connect(self.authority.to_socket_addrs()?)?);
        }
        self.connection
            .as_mut()
            .ok_or_else(|| io::Error::other("no connection"))
    }
}

/// True when a kept connection has not been closed or reset by the other side (a peek that
/// would block means it is open and idle).
fn still_open(stream: &TcpStream) -> bool {
    if stream.set_nonblocking(true).is_err() {
        return false;
    }
    let open =
        matches!(stream.peek(&mut [0u8; 1]), Err(e) if e.kind() == io::ErrorKind::WouldBlock);
    stream.set_nonblocking(false).is_ok() && open
}

/// Where the streamed response of one invocation stands.
enum State {
    /// Nothing sent yet: the request starts with the first byte the handler writes, so an error
    /// before it can still go to `/error`, and the handler can still choose the content type.
    NotStarted,
    /// The head and some chunks are out.
    Open,
    /// The connection failed after the head went out: the stream cannot be finished.
    Broken(io::Error),
    /// The API answered before the stream ended (410 for a late answer, 413, 500 ...), and
    /// stopped reading it: that status is the stream's answer.
    Answered(u16),
}

/// One invocation's streamed response, written as the handler writes.
pub(crate) struct StreamedResponse<'a> {
    target: &'a mut StreamTarget,
    invocation: Invocation<'a>,
    content_type: String,
    state: State,
    sent: u64,
    over_limit: bool,
    /// Reused for each chunk's framing and bytes, so a chunk is one write.
    frame: Vec<u8>,
}

/// How a streamed response ended.
#[derive(Debug)]
pub(crate) enum Finished {
    /// The API answered the stream.
    Posted(Posted),
    /// Nothing was sent (the handler failed before its first byte): answer with `/error`.
    NotStarted(Error),
    /// The connection failed mid-stream; the answer could not be completed.
    Broken(io::Error),
}

impl<'a> StreamedResponse<'a> {
    pub(crate) fn new(target: &'a mut StreamTarget, invocation: Invocation<'a>) -> Self {
        let frame = std::mem::take(&mut target.frame);
        StreamedResponse {
            target,
            invocation,
            content_type: String::new(),
            state: State::NotStarted,
            sent: 0,
            over_limit: false,
            frame,
        }
    }

    /// Bytes of body sent so far.
    pub(crate) fn sent(&self) -> u64 {
        self.sent
    }

    pub(crate) fn started(&self) -> bool {
        !matches!(self.state, State::NotStarted)
    }

    /// Sets the `Content-Type` of the stream; only before its first byte.
    pub(crate) fn set_content_type(&mut self, content_type: &str) -> io::Result<()> {
        if self.started() {
            return Err(io::Error::other(
                "the content type must be set before the first byte of the response",
            ));
        }
        self.content_type.clear();
        self.content_type.push_str(content_type);
        Ok(())
    }

    /// Sends the request head, retrying a failed connection (nothing of the body is lost yet).
    fn start(&mut self) -> io::Result<()> {
        let mut head = std::mem::take(&mut self.frame);
        head.clear();
        self.write_head(&mut head);
        let target = &mut *self.target;
        let sent = crate::retry::with_retries(|| {
            let result = target.connection().and_then(|c| c.write_all(&head));
            result.map_err(|e| {
                target.connection = None;
                ApiError::Transport {
                    endpoint: ENDPOINT,
                    source: e,
                }
            })
        });
        self.frame = head;
        match sent {
            Ok(()) => {
                self.state = State::Open;
                Ok(())
            }
            Err(e) => Err(io::Error::other(e.to_string())),
        }
    }

    fn write_head(&self, head: &mut Vec<u8>) {
        let content_type = if self.content_type.is_empty() {
            DEFAULT_CONTENT_TYPE
        } else {
            &self.content_type
        };
        head.extend_from_slice(b"POST ");
        head.extend_from_slice(self.target.path_base.as_bytes());
        head.extend_from_slice(PATH_INVOCATION.as_bytes());
        wire::encode_request_id(self.invocation.request_id, |piece| {
            head.extend_from_slice(piece.as_bytes())
        });
        head.extend_from_slice(PATH_RESPONSE_SUFFIX.as_bytes());
        head.extend_from_slice(b" HTTP/1.1\r\nHost: ");
        head.extend_from_slice(self.target.authority.as_bytes());
        head.extend_from_slice(b"\r\nUser-Agent: lambda-blocking-rt/");
        head.extend_from_slice(env!("CARGO_PKG_VERSION").as_bytes());
        for (name, value) in [
            (HEADER_RESPONSE_MODE, "streaming"),
            ("Transfer-Encoding", "chunked"),
            (
                "Trailer",
                "Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body",
            ),
            ("Content-Type", content_type),
        ]
        .into_iter()
        .chain(
            self.invocation
                .invocation_id
                .map(|id| (HEADER_INVOCATION_ID, id)),
        ) {
            head.extend_from_slice(b"\r\n");
            head.extend_from_slice(name.as_bytes());
            head.extend_from_slice(b": ");
            // Header-safe by construction: constants, a content type checked by the caller, an
            // invocation id of visible ASCII.
            head.extend_from_slice(value.as_bytes());
        }
        head.extend_from_slice(b"\r\n\r\n");
    }

    /// Ends the stream: a last empty chunk, with the error trailers when `outcome` is an error
    /// (or the handler wrote past the limit), then reads the API's answer.
    pub(crate) fn finish(mut self, outcome: Result<(), Error>) -> Result<Finished, ApiError> {
        let outcome = if self.over_limit {
            Err(Error::new(
                ERROR_RESPONSE_TOO_LARGE,
                format!(
                    "the streamed response is larger than Lambda's limit of {MAX_STREAM_BYTES} bytes"
                ),
            ))
        } else {
            outcome
        };
        match (&self.state, outcome) {
            (State::NotStarted, Err(error)) => Ok(Finished::NotStarted(error)),
            (State::NotStarted, Ok(())) => {
                if let Err(e) = self.start() {
                    return Ok(Finished::Broken(e));
                }
                self.end(None)
            }
            (State::Open, outcome) => self.end(outcome.err()),
            (State::Answered(status), _) => posted(*status),
            (State::Broken(_), _) => match std::mem::replace(&mut self.state, State::NotStarted) {
                State::Broken(e) => Ok(Finished::Broken(e)),
                _ => Ok(Finished::Broken(io::Error::other("the stream broke"))),
            },
        }
    }

    fn end(&mut self, error: Option<Error>) -> Result<Finished, ApiError> {
        // Built in the frame buffer, which stays in `self.frame` to go back to the target: taken
        // out here, it was dropped, and every stream grew a new one (35 page faults a 1 MiB
        // stream in the streaming benchmark).
        let last = &mut self.frame;
        last.clear();
        last.extend_from_slice(b"0\r\n");
        if let Some(error) = &error {
            last.extend_from_slice(HEADER_ERROR_TYPE.as_bytes());
            last.extend_from_slice(b": ");
            last.extend_from_slice(error.header_safe_type().as_bytes());
            last.extend_from_slice(b"\r\n");
            last.extend_from_slice(HEADER_ERROR_BODY.as_bytes());
            last.extend_from_slice(b": ");
            let mut json = Vec::new();
            error.write_json(&mut json);
            base64_encode(&json, last);
            last.extend_from_slice(b"\r\n");
        }
        last.extend_from_slice(b"\r\n");
        let Some(connection) = self.target.connection.as_mut() else {
            return Ok(Finished::Broken(io::Error::other("the connection is gone")));
        };
        if let Err(e) = connection.write_all(&self.frame) {
            // As for a chunk: an answer that came early says more than the failed write.
            return match self.early_answer() {
                Some(status) => posted(status),
                None => Ok(Finished::Broken(e)),
            };
        }
        match direct::read_status(connection, &mut self.frame) {
            Ok((status, keep_alive)) => {
                if !keep_alive {
                    self.target.connection = None;
                }
                posted(status)
            }
            Err(e) => {
                self.target.connection = None;
                Ok(Finished::Broken(e))
            }
        }
    }

    /// After a failed write: the API may have answered early (410 for a late answer, 413),
    /// which says more than the broken pipe does.
    fn early_answer(&mut self) -> Option<u16> {
        let connection = self.target.connection.as_mut()?;
        connection
            .set_read_timeout(Some(std::time::Duration::from_millis(500)))
            .ok()?;
        let answer = direct::read_status(connection, &mut self.frame)
            .ok()
            .map(|(status, _)| status);
        self.target.connection = None;
        answer
    }
}

impl Drop for StreamedResponse<'_> {
    fn drop(&mut self) {
        self.target.frame = std::mem::take(&mut self.frame);
    }
}

impl Write for StreamedResponse<'_> {
    /// Sends `buf` as one chunk, at once.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            // An empty chunk would end the body.
            return Ok(0);
        }
        match &self.state {
            State::Broken(e) => return Err(io::Error::new(e.kind(), e.to_string())),
            State::Answered(status) => return Err(answered_early(*status)),
            _ => {}
        }
        if self.over_limit || self.sent + buf.len() as u64 > MAX_STREAM_BYTES {
            self.over_limit = true;
            return Err(io::Error::other(format!(
                "the streamed response would pass Lambda's limit of {MAX_STREAM_BYTES} bytes"
            )));
        }
        if let State::NotStarted = self.state {
            self.start()?;
        }
        self.frame.clear();
        write!(self.frame, "{:x}\r\n", buf.len())?;
        self.frame.extend_from_slice(buf);
        self.frame.extend_from_slice(b"\r\n");
        let written = match self.target.connection.as_mut() {
            Some(connection) => connection.write_all(&self.frame),
            None => Err(io::Error::other("the connection is gone")),
        };
        match written {
            Ok(()) => {
                self.sent += buf.len() as u64;
                Ok(buf.len())
            }
            Err(e) => match self.early_answer() {
                Some(status) => {
                    self.state = State::Answered(status);
                    Err(answered_early(status))
                }
                None => {
                    let returned = io::Error::new(e.kind(), e.to_string());
                    self.state = State::Broken(e);
                    Err(returned)
                }
            },
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// What the handler's next write is told once the API answered the stream early.
fn answered_early(status: u16) -> io::Error {
    io::Error::other(format!(
        "the Runtime API ended the stream with HTTP {status}"
    ))
}

/// The stream's answer, mapped as every answer is (`wire::posted`).
fn posted(status: u16) -> Result<Finished, ApiError> {
    match wire::posted(status) {
        Some(posted) => Ok(Finished::Posted(posted)),
        None => Err(ApiError::Fatal {
            endpoint: ENDPOINT,
            status,
            body: String::new(),
        }),
    }
}

/// Standard base64 with padding (RFC 4648), appended to `out`.
fn base64_encode(input: &[u8], out: &mut Vec<u8>) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for group in input.chunks(3) {
        let b = [
            group[0],
            group.get(1).copied().unwrap_or(0),
            group.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= group.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]);
            } else {
                out.push(b'=');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn b64(input: &[u8]) -> String {
        let mut out = Vec::new();
        base64_encode(input, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn base64_matches_rfc_4648_test_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(b64(plain.as_bytes()), encoded);
        }
        assert_eq!(b64(&[0xff, 0xfe, 0x00]), "//4A");
    }

    #[test]
    fn the_answer_head_ends_at_its_first_empty_line() {
        let answer = b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{}";
        assert_eq!(wire::head_len(answer), Some(answer.len() - 2));
        assert_eq!(wire::head_len(b"HTTP/1.1 202\nA: b\n\nbody"), Some(19));
        assert_eq!(
            wire::head_len(b"HTTP/1.1 202 Accepted\r\nContent-Len"),
            None
        );
        assert_eq!(wire::head_len(b""), None);
    }

    /// A Runtime API that takes `streams` streamed responses on one connection, each answered
    /// 202 once its last chunk has come.
    fn accepting_api(streams: usize) -> (String, std::thread::JoinHandle<()>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let api = std::thread::spawn(move || {
            let (mut connection, _) = listener.accept().unwrap();
            let mut seen = Vec::new();
            let mut chunk = [0u8; 4096];
            for _ in 0..streams {
                while !seen.ends_with(b"\r\n0\r\n\r\n") {
                    let n = connection.read(&mut chunk).unwrap();
                    assert!(n > 0, "the stream ended early");
                    seen.extend_from_slice(&chunk[..n]);
                }
                seen.clear();
                connection
                    .write_all(b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{}")
                    .unwrap();
            }
        });
        (base, api)
    }

    #[test]
    fn the_frame_buffer_outlives_a_stream_for_the_next_one() {
        let (base, api) = accepting_api(2);
        let mut target = StreamTarget::new(&crate::config::base_url(&base).unwrap());
        let invocation = Invocation {
            request_id: "req-1",
            invocation_id: None,
        };
        let mut capacities = Vec::new();
        for _ in 0..2 {
            let mut streamed = StreamedResponse::new(&mut target, invocation);
            streamed.write_all(&[b'x'; 10_000]).unwrap();
            let finished = streamed.finish(Ok(())).unwrap();
            assert!(matches!(finished, Finished::Posted(Posted::Accepted)));
            capacities.push(target.frame.capacity());
        }
        api.join().unwrap();
        // Kept after the first stream, and not grown anew by the second.
        assert!(capacities[0] >= 10_000, "{capacities:?}");
        assert_eq!(capacities[0], capacities[1]);
        assert!(target.connection.is_some(), "the connection is kept");
    }

    #[test]
    fn target_splits_the_base_url() {
        let target = |address: &str| StreamTarget::new(&crate::config::base_url(address).unwrap());
        let t = target("127.0.0.1:9001");
        assert_eq!(
            (t.authority.as_str(), t.path_base.as_str()),
            ("127.0.0.1:9001", "/2018-06-01")
        );
        let t = target("http://[::1]:9000/.rt/fn");
        assert_eq!(
            (t.authority.as_str(), t.path_base.as_str()),
            ("[::1]:9000", "/.rt/fn/2018-06-01")
        );
        assert_eq!(target("http://host").authority, "host:80");
        assert_eq!(target("http://[::1]").authority, "[::1]:80");
    }
}
