//! The HTTP layer of every request but a streamed response (`streamed`): the Runtime API's
//! `GET /runtime/invocation/next` and `POST …/response`, the two every invocation makes, and its
//! error reports; and the Extensions and Telemetry APIs' calls (`extension`), each client on a
//! kept connection of its own. Written and read by hand.
//!
//! Why by hand (this replaced ureq): through ureq each request builds an `http::Request` and an
//! `http::Response` (a `HeaderMap` with an allocation per header), parses its URI, times itself
//! though no timeout is set, and runs in one function whose stack frame is over 14 KiB: four
//! fifths of a warm invocation's instructions, most of its allocations (each one through musl's
//! single allocator lock when workers run at once), and most of the stack pages each worker
//! thread touches. Here a request is one prepared head and one write, and an answer's head is
//! scanned where it was read.
//!
//! What is read is what Lambda's local APIs send: a status line, headers (at most 128, a head of
//! at most 64 KiB, as ureq allowed), and a body framed by `Content-Length`, by chunks, or by the
//! end of the connection. Any failure drops the connection; the retry loop opens a new one.

use std::io::{self, IoSlice, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};

use crate::client::{BaseUrl, Invocation, Next, NextAnswer, wire};
use crate::protocol::*;

/// The longest answer head read, and the most header lines in it (the limits ureq had).
const MAX_HEAD_BYTES: usize = 64 * 1024;
const MAX_HEADERS: usize = 128;

/// How much of a fatal answer's body is kept for the error message.
const MAX_FATAL_BODY: usize = 1024;

const USER_AGENT: &str = concat!("lambda-blocking-rt/", env!("CARGO_PKG_VERSION"));

/// One kept connection to the Runtime API and the buffers of its requests and answers.
pub(crate) struct Connection {
    /// `host:port` to connect to (the port written out).
    host_port: String,
    /// Resolved on the first connect: the API's address does not change while the environment
    /// lives.
    addrs: Vec<SocketAddr>,
    stream: Option<TcpStream>,
    /// `GET {path}/runtime/invocation/next`'s whole request, built once.
    next_request: Vec<u8>,
    /// `Host` and `User-Agent`, the lines every request has.
    common_lines: Vec<u8>,
    /// The base URL's path, `{prefix}/2018-06-01`: the Runtime API's paths go after all of it,
    /// the Extensions and Telemetry APIs' (which name their own versions) after the prefix.
    api_path: String,
    prefix_len: usize,
    /// A request's head, built per request in the same buffer.
    head: Vec<u8>,
    /// An answer's head, and what arrived with it (`input[..input_filled]`). Its length only
    /// grows, so the next answer is read in one call when it is no longer than the longest yet.
    input: Vec<u8>,
    input_filled: usize,
    /// The length of the last answer's head, at the front of `input` until the next request.
    answer_head_len: usize,
}

/// An answer read: its status, and the headers in `input[..head_len]`.
struct Head {
    status: u16,
    len: usize,
    framing: Framing,
    keep_alive: bool,
}

/// How an answer's body ends.
#[derive(Clone, Copy)]
enum Framing {
    Length(u64),
    Chunked,
    Close,
}

/// What reading an answer's head gave.
enum HeadRead {
    Read(Head),
    /// Over [`MAX_HEAD_BYTES`] or [`MAX_HEADERS`]: what arrived of it stays in `input`.
    OverLimits(&'static str),
}

/// A `/next` answer read.
pub(crate) enum NextRead {
    /// Status 200 (an event) or a head over the limits (an invocation that cannot be read).
    Next(Next),
    /// Another status, with the start of the body.
    Status(u16, String),
}

impl Connection {
    pub(crate) fn new(base: &BaseUrl) -> Connection {
        let path = base.path();
        let authority = base.authority();
        let common_lines = format!("Host: {authority}\r\nUser-Agent: {USER_AGENT}\r\n");
        let next_request = format!("GET {path}{PATH_NEXT} HTTP/1.1\r\n{common_lines}\r\n");
        Connection {
            host_port: base.host_port(),
            addrs: Vec::new(),
            stream: None,
            next_request: next_request.into_bytes(),
            common_lines: common_lines.into_bytes(),
            api_path: path.to_owned(),
            // The root (`http://{authority}{prefix}`) less its scheme and authority.
            prefix_len: base.root().len() - "http://".len() - authority.len(),
            head: Vec::new(),
            input: Vec::new(),
            input_filled: 0,
            answer_head_len: 0,
        }
    }

    /// `GET /next`, its event read into the front of `event` (see `client::read_event`).
    /// `while_waiting` runs once the request is sent, before the answer is read: work that can
    /// wait until then is off the Runtime API's clock (for the first poll, off init).
    pub(crate) fn next(
        &mut self,
        event: &mut Vec<u8>,
        while_waiting: &mut dyn FnMut(),
    ) -> io::Result<NextRead> {
        let result = self.next_inner(event, while_waiting);
        if result.is_err() {
            self.stream = None;
        }
        result
    }

    /// The headers of the last answer (a `/next` event's, an extension call's), names in lower
    /// case.
    pub(crate) fn answer_headers(&self) -> wire::RawHeaders<'_> {
        wire::RawHeaders::new(&self.input[..self.answer_head_len.min(self.input.len())])
    }

    fn next_inner(
        &mut self,
        event: &mut Vec<u8>,
        while_waiting: &mut dyn FnMut(),
    ) -> io::Result<NextRead> {
        self.answer_head_len = 0;
        let stream = connected(&mut self.stream, &mut self.addrs, &self.host_port)?;
        stream.write_all(&self.next_request)?;
        while_waiting();
        let read = read_head(stream, &mut self.input, &mut self.input_filled)?;
        let arrived = &self.input[..self.input_filled];
        let head = match read {
            HeadRead::Read(head) => head,
            HeadRead::OverLimits(what) => {
                self.stream = None;
                let id = |name| wire::raw_header(arrived, name).map(str::to_owned);
                return Ok(NextRead::Next(Next::Unreadable {
                    request_id: id("lambda-runtime-aws-request-id"),
                    invocation_id: id("lambda-runtime-invocation-id"),
                    reason: format!("the /next answer could not be read: {what}"),
                }));
            }
        };
        log::debug!("GET {PATH_NEXT}: HTTP {}", head.status);
        let mut body = Body::new(&arrived[head.len..], stream, head.framing);
        if head.status != 200 {
            let text = fatal_text(&mut body);
            self.stream = None;
            return Ok(NextRead::Status(head.status, text));
        }
        let expected = match head.framing {
            Framing::Length(n) => Some(n),
            _ => None,
        };
        let (event_len, mut body_error) = super::read_event(
            &mut (&mut body).take(super::MAX_EVENT_BYTES),
            expected,
            event,
        );
        if body_error.is_none() && event_len as u64 == super::MAX_EVENT_BYTES {
            body_error = Some(io::Error::new(
                io::ErrorKind::InvalidData,
                "the event is over the 128 MiB this runtime reads",
            ));
        }
        if body_error.is_some() || !head.keep_alive || !body.ended_cleanly() {
            self.stream = None;
        }
        self.answer_head_len = head.len;
        Ok(NextRead::Next(Next::Event(NextAnswer {
            event_len,
            body_error,
        })))
    }

    /// A POST of `body` to `target`, with `headers` besides `Host`, `User-Agent`, the
    /// invocation's id and `Content-Length`: the answer's status, and the start of its body when
    /// the status is a server error.
    pub(crate) fn post(
        &mut self,
        target: PostTarget<'_>,
        headers: &[(&str, &[u8])],
        body: &[u8],
    ) -> io::Result<(u16, String)> {
        let result = self.post_inner(target, headers, body);
        if result.is_err() {
            self.stream = None;
        }
        result
    }

    fn post_inner(
        &mut self,
        target: PostTarget<'_>,
        headers: &[(&str, &[u8])],
        body: &[u8],
    ) -> io::Result<(u16, String)> {
        let invocation_id = match target {
            PostTarget::Invocation(invocation, _) => invocation.invocation_id,
            PostTarget::InitError => None,
        };
        let id = invocation_id.map(|id| (HEADER_INVOCATION_ID, id.as_bytes()));
        let path = |head: &mut Vec<u8>| match target {
            PostTarget::Invocation(invocation, suffix) => {
                head.extend_from_slice(PATH_INVOCATION.as_bytes());
                wire::encode_request_id(invocation.request_id, |piece| {
                    head.extend_from_slice(piece.as_bytes())
                });
                head.extend_from_slice(suffix.as_bytes());
            }
            PostTarget::InitError => head.extend_from_slice(PATH_INIT_ERROR.as_bytes()),
        };
        let all_headers = id.iter().chain(headers);
        self.write_head("POST", true, path, all_headers, Some(body.len()))?;
        let head = self.send(body)?;
        log::debug!("POST {}: HTTP {}", target.path(), head.status);
        let arrived = &self.input[..self.input_filled];
        let stream = self.stream.as_mut().ok_or_else(no_connection)?;
        let mut answer = Body::new(&arrived[head.len..], stream, head.framing);
        let text = if head.status >= 500 {
            fatal_text(&mut answer)
        } else {
            drain(&mut answer)?;
            String::new()
        };
        if !head.keep_alive || !answer.ended_cleanly() {
            self.stream = None;
        }
        Ok((head.status, text))
    }

    /// `{method} {prefix}{path}`, for the Extensions and Telemetry APIs (their paths name their
    /// own API versions), with `headers` besides `Host`, `User-Agent` and, when there is a body,
    /// `Content-Length`. The answer's body is read into `into` (cleared first), at most
    /// `max_body` bytes; its headers are [`Connection::answer_headers`] until the next request.
    /// Gives the status, and the error that cut the body short if one did (the request was
    /// answered: that is not for the retry loop to send again).
    pub(crate) fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &[u8])],
        body: Option<&[u8]>,
        into: &mut Vec<u8>,
        max_body: u64,
    ) -> io::Result<(u16, Option<io::Error>)> {
        // Same parameters as `request_inner` (`duplicates` pairs them): this one drops the
        // connection on any failure, so that one can use `?` throughout.
        let result = self.request_inner(method, path, headers, body, into, max_body);
        if !matches!(result, Ok((_, None))) {
            self.stream = None;
        }
        result
    }

    fn request_inner(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &[u8])],
        body: Option<&[u8]>,
        into: &mut Vec<u8>,
        max_body: u64,
    ) -> io::Result<(u16, Option<io::Error>)> {
        let write_path = |head: &mut Vec<u8>| head.extend_from_slice(path.as_bytes());
        self.write_head(
            method,
            false,
            write_path,
            headers.iter(),
            body.map(<[u8]>::len),
        )?;
        let head = self.send(body.unwrap_or_default())?;
        log::debug!("{method} {path}: HTTP {}", head.status);
        let arrived = &self.input[..self.input_filled];
        let stream = self.stream.as_mut().ok_or_else(no_connection)?;
        let mut answer = Body::new(&arrived[head.len..], stream, head.framing);
        into.clear();
        let mut body_error = (&mut answer)
            .take(max_body.saturating_add(1))
            .read_to_end(into)
            .err();
        if into.len() as u64 > max_body {
            into.truncate(max_body.min(usize::MAX as u64) as usize);
            body_error = Some(wire::not_network(format!(
                "the answer's body is over the {max_body} bytes read"
            )));
        }
        if !head.keep_alive || !answer.ended_cleanly() {
            self.stream = None;
        }
        self.answer_head_len = head.len;
        Ok((head.status, body_error))
    }

    /// Builds a request's head in `self.head`: the request line (the path after the base URL's
    /// whole path when `runtime_api`, else after its prefix), `Host`, `User-Agent`, `headers`,
    /// and `Content-Length` when there is a body. A header value with a control character in it
    /// is refused, as an HTTP library refuses it: a line break would end the header early and
    /// start another, and the request would fail the same way every time.
    fn write_head<'h>(
        &mut self,
        method: &str,
        runtime_api: bool,
        path: impl FnOnce(&mut Vec<u8>),
        headers: impl Iterator<Item = &'h (&'h str, &'h [u8])>,
        body_len: Option<usize>,
    ) -> io::Result<()> {
        self.answer_head_len = 0;
        let head = &mut self.head;
        head.clear();
        head.extend_from_slice(method.as_bytes());
        head.push(b' ');
        let base = match runtime_api {
            true => &self.api_path[..],
            false => &self.api_path[..self.prefix_len],
        };
        head.extend_from_slice(base.as_bytes());
        path(head);
        head.extend_from_slice(b" HTTP/1.1\r\n");
        head.extend_from_slice(&self.common_lines);
        for (name, value) in headers {
            if value.iter().any(|&b| (b < b' ' && b != b'\t') || b == 0x7f) {
                return Err(wire::not_network(format!(
                    "the {name} header's value holds a control character"
                )));
            }
            head.extend_from_slice(name.as_bytes());
            head.extend_from_slice(b": ");
            head.extend_from_slice(value);
            head.extend_from_slice(b"\r\n");
        }
        if let Some(len) = body_len {
            head.extend_from_slice(b"Content-Length: ");
            push_decimal(head, len);
            head.extend_from_slice(b"\r\n");
        }
        head.extend_from_slice(b"\r\n");
        Ok(())
    }

    /// Sends the head built in `self.head` and `body` on the kept connection (or a new one), and
    /// reads the answer's head into the front of `input`. A head over the limits is not the
    /// network's doing: reading it again would fail the same way.
    fn send(&mut self, body: &[u8]) -> io::Result<Head> {
        let stream = connected(&mut self.stream, &mut self.addrs, &self.host_port)?;
        write_all_vectored(stream, &self.head, body)?;
        match read_head(stream, &mut self.input, &mut self.input_filled)? {
            HeadRead::Read(head) => Ok(head),
            HeadRead::OverLimits(what) => Err(wire::not_network(format!(
                "the answer could not be read: {what}"
            ))),
        }
    }
}

fn no_connection() -> io::Error {
    io::Error::other("no connection")
}

/// Where a POST goes.
#[derive(Clone, Copy)]
pub(crate) enum PostTarget<'a> {
    /// `/runtime/invocation/{request-id}{suffix}` (`/response`, `/error`), with the attempt's
    /// `Lambda-Runtime-Invocation-Id` when `/next` gave one.
    Invocation(&'a Invocation<'a>, &'static str),
    /// `/runtime/init/error`.
    InitError,
}

impl PostTarget<'_> {
    /// The endpoint, for the debug record (the request id as `/next` gave it).
    fn path(&self) -> String {
        match self {
            PostTarget::Invocation(invocation, suffix) => {
                format!("{PATH_INVOCATION}{}{suffix}", invocation.request_id)
            }
            PostTarget::InitError => PATH_INIT_ERROR.to_owned(),
        }
    }
}

/// The kept stream, or a new connection (to the address resolved on the first one).
fn connected<'s>(
    stream: &'s mut Option<TcpStream>,
    addrs: &mut Vec<SocketAddr>,
    host_port: &str,
) -> io::Result<&'s mut TcpStream> {
    if stream.is_none() {
        if addrs.is_empty() {
            addrs.extend(host_port.to_socket_addrs()?.take(16));
        }
        *stream = Some(wire::connect(addrs.iter().copied())?);
    }
    stream.as_mut().ok_or_else(no_connection)
}

/// `head` then `body`, in as few system calls as the kernel allows.
fn write_all_vectored(stream: &mut TcpStream, head: &[u8], body: &[u8]) -> io::Result<()> {
    let mut parts = [IoSlice::new(head), IoSlice::new(body)];
    let mut parts = &mut parts[..];
    while !parts.is_empty() {
        match stream.write_vectored(parts) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut parts, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn push_decimal(out: &mut Vec<u8>, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// Reads an answer whose body is not wanted (a streamed response's): its status, and whether the
/// connection can carry the next request. The head is read into the front of `buf` (the stream's
/// frame buffer, free once the stream has ended: a buffer of its own per stream cost an
/// allocation, enough for musl's allocator to unmap and map a page per stream). A body framed by
/// the connection's end is not waited for: the connection is then dropped.
pub(super) fn read_status(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<(u16, bool)> {
    let mut filled = 0;
    let head = match read_head(stream, buf, &mut filled)? {
        HeadRead::Read(head) => head,
        HeadRead::OverLimits(what) => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("the answer could not be read: {what}"),
            ));
        }
    };
    let mut body = Body::new(&buf[head.len..filled], stream, head.framing);
    if !matches!(head.framing, Framing::Close) {
        drain(&mut body)?;
    }
    Ok((head.status, head.keep_alive && body.ended_cleanly()))
}

/// Reads an answer's head into the front of `input` (it grows as needed, up to the limit), with
/// header names put in lower case where they lie; `filled` says how much of `input` arrived.
fn read_head(
    stream: &mut TcpStream,
    input: &mut Vec<u8>,
    filled_out: &mut usize,
) -> io::Result<HeadRead> {
    *filled_out = 0;
    let mut filled = 0;
    let len = loop {
        let found = wire::head_len(&input[..filled]);
        if found.unwrap_or(filled) > MAX_HEAD_BYTES {
            *filled_out = filled;
            return Ok(HeadRead::OverLimits("its head is over 64 KiB"));
        }
        if let Some(len) = found {
            break len;
        }
        if filled == input.len() {
            input.resize((2 * filled).max(1024), 0);
        }
        match stream.read(&mut input[filled..]) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    };
    *filled_out = filled;
    let invalid = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_owned());
    let mut lines = input[..len].split_mut(|&b| b == b'\n');
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .strip_prefix(b"HTTP/1.")
        .and_then(|rest| rest.get(2..5))
        .and_then(|code| std::str::from_utf8(code).ok()?.parse::<u16>().ok())
        .ok_or_else(|| invalid("the answer does not start with an HTTP/1 status line"))?;
    let mut keep_alive = !status_line.starts_with(b"HTTP/1.0");
    let mut framing = Framing::Close;
    let mut count = 0;
    for line in lines {
        let line = match line {
            [line @ .., b'\r'] => line,
            line => line,
        };
        if line.is_empty() {
            // The empty line that ends the head.
            continue;
        }
        // `name: value`, the name an HTTP token: anything else is not HTTP, as a parser would
        // refuse it (and the request is sent again on a new connection).
        let colon = line.iter().position(|&b| b == b':');
        let Some(colon) = colon.filter(|&c| c > 0 && line[..c].iter().all(|&b| is_tchar(b))) else {
            return Err(invalid("a header line is not `name: value`"));
        };
        count += 1;
        if count > MAX_HEADERS {
            return Ok(HeadRead::OverLimits("it has too many headers (over 128)"));
        }
        let (name, value) = line.split_at_mut(colon);
        name.make_ascii_lowercase();
        let value = value[1..].trim_ascii();
        if value.iter().any(|&b| (b < b' ' && b != b'\t') || b == 0x7f) {
            return Err(invalid("a header value holds a control character"));
        }
        match &*name {
            b"content-length" if !matches!(framing, Framing::Chunked) => {
                let n = std::str::from_utf8(value).ok().and_then(|v| v.parse().ok());
                framing = Framing::Length(n.ok_or_else(|| invalid("bad Content-Length"))?);
            }
            b"transfer-encoding" if value.eq_ignore_ascii_case(b"chunked") => {
                framing = Framing::Chunked;
            }
            b"connection" if value.eq_ignore_ascii_case(b"close") => keep_alive = false,
            _ => {}
        }
    }
    // Statuses without a body (RFC 9110, 6.4.1).
    if matches!(status, 100..=199 | 204 | 304) {
        framing = Framing::Length(0);
    }
    Ok(HeadRead::Read(Head {
        status,
        len,
        framing,
        keep_alive: keep_alive && !matches!(framing, Framing::Close),
    }))
}

/// A byte of an HTTP token (RFC 9110, 5.6.2).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// An answer's body: first what arrived with the head, then the stream, up to where its framing
/// says it ends.
struct Body<'a> {
    early: &'a [u8],
    stream: &'a mut TcpStream,
    framing: Framing,
    /// Bytes left of the body (`Length`) or of the current chunk (`Chunked`).
    left: u64,
    /// A chunked body's last chunk has been read.
    done: bool,
}

impl<'a> Body<'a> {
    fn new(early: &'a [u8], stream: &'a mut TcpStream, framing: Framing) -> Self {
        let left = match framing {
            Framing::Length(n) => n,
            _ => 0,
        };
        Body {
            early,
            stream,
            framing,
            left,
            done: false,
        }
    }

    /// Whether the body was read to its end and nothing more arrived after it: the connection
    /// can carry the next request.
    fn ended_cleanly(&self) -> bool {
        self.early.is_empty()
            && match self.framing {
                Framing::Length(_) => self.left == 0,
                Framing::Chunked => self.done,
                Framing::Close => false,
            }
    }

    /// Bytes of the answer, whatever its framing.
    fn raw(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.early.is_empty() {
            let n = buf.len().min(self.early.len());
            buf[..n].copy_from_slice(&self.early[..n]);
            self.early = &self.early[n..];
            return Ok(n);
        }
        self.stream.read(buf)
    }

    fn byte(&mut self) -> io::Result<u8> {
        let mut b = [0u8; 1];
        match self.raw(&mut b)? {
            0 => Err(io::ErrorKind::UnexpectedEof.into()),
            _ => Ok(b[0]),
        }
    }

    /// Reads a chunk-size line (`{hex}[;ext]\r\n`); 0 ends the body, after its trailer lines.
    fn chunk_size(&mut self) -> io::Result<u64> {
        let bad = || io::Error::new(io::ErrorKind::InvalidData, "bad chunk size");
        let mut size: u64 = 0;
        let mut digits = true;
        loop {
            let b = self.byte()?;
            match (b, digits) {
                (b'\n', _) => break,
                (b'\r', _) | (b';', _) => digits = false,
                (_, true) => {
                    let d = (b as char).to_digit(16).ok_or_else(bad)?;
                    size = size.checked_mul(16).ok_or_else(bad)? + u64::from(d);
                }
                (_, false) => {}
            }
        }
        if size == 0 {
            // Trailers, up to an empty line.
            let mut line_len = 0;
            loop {
                match self.byte()? {
                    b'\n' if line_len == 0 => break,
                    b'\n' => line_len = 0,
                    b'\r' => {}
                    _ => line_len += 1,
                }
            }
        }
        Ok(size)
    }
}

impl Read for Body<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.framing {
            Framing::Close => self.raw(buf),
            Framing::Length(_) => {
                if self.left == 0 || buf.is_empty() {
                    return Ok(0);
                }
                let want = buf
                    .len()
                    .min(usize::try_from(self.left).unwrap_or(usize::MAX));
                match self.raw(&mut buf[..want])? {
                    0 => Err(io::ErrorKind::UnexpectedEof.into()),
                    n => {
                        self.left -= n as u64;
                        Ok(n)
                    }
                }
            }
            Framing::Chunked => {
                if self.done || buf.is_empty() {
                    return Ok(0);
                }
                if self.left == 0 {
                    self.left = self.chunk_size()?;
                    if self.left == 0 {
                        self.done = true;
                        return Ok(0);
                    }
                }
                let want = buf
                    .len()
                    .min(usize::try_from(self.left).unwrap_or(usize::MAX));
                let n = match self.raw(&mut buf[..want])? {
                    0 => return Err(io::ErrorKind::UnexpectedEof.into()),
                    n => n,
                };
                self.left -= n as u64;
                if self.left == 0 {
                    // The chunk's closing line break.
                    while self.byte()? != b'\n' {}
                }
                Ok(n)
            }
        }
    }
}

/// Reads a (short) answer body to its end.
fn drain(body: &mut Body<'_>) -> io::Result<()> {
    let mut sink = [0u8; 128];
    while body.read(&mut sink)? > 0 {}
    Ok(())
}

/// The start of an error answer's body, as text, for the error that ends the runtime.
fn fatal_text(body: &mut Body<'_>) -> String {
    let mut text = Vec::new();
    let _ = body.take(MAX_FATAL_BODY as u64).read_to_end(&mut text);
    String::from_utf8_lossy(&text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_written_without_fmt() {
        for n in [0usize, 7, 10, 64, 1_048_576, usize::MAX] {
            let mut out = Vec::new();
            push_decimal(&mut out, n);
            assert_eq!(out, n.to_string().into_bytes());
        }
    }
}
