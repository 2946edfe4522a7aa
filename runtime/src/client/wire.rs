//! What every request to the local APIs shares, whichever way it is sent (buffered by `direct`,
//! to the Runtime, Extensions and Telemetry APIs, or streamed by `streamed`): where the API is,
//! how an invocation's path is written, how a connection is opened, what a status means, and
//! which failures are worth sending again.
//!
//! The rule the retry loop follows is made here, once: a request is sent again only when the
//! network failed it. A request this runtime can never send (too big for its buffer, a path no
//! URI can hold) or an answer it can never read (a head over its limits) fails the same way every
//! time, so it is reported instead.

use std::io;
use std::net::{SocketAddr, TcpStream};

use crate::client::Posted;
use crate::protocol::{PATH_INVOCATION, PATH_RESPONSE_SUFFIX};

/// The Runtime API's base URL, parsed once (by [`crate::config::base_url`]): every endpoint path
/// is appended to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BaseUrl {
    /// `http://{authority}{prefix}/2018-06-01`.
    url: String,
    /// Where the path (`{prefix}/2018-06-01`) starts in `url`.
    path_start: usize,
    /// The port to add to the authority when it names none.
    default_port: Option<u16>,
}

impl BaseUrl {
    /// `url` is `http://{authority}{path}`, already checked; `port` is the one to connect to.
    pub(crate) fn new(url: String, authority: &str, port: u16) -> BaseUrl {
        let path_start = "http://".len() + authority.len();
        let named = !authority.ends_with(']') && authority.contains(':');
        BaseUrl {
            url,
            path_start,
            default_port: (!named).then_some(port),
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.url
    }

    /// `host[:port]` as the address gave it: what a request names in its `Host` header.
    pub(crate) fn authority(&self) -> &str {
        &self.url["http://".len()..self.path_start]
    }

    /// `http://{authority}{prefix}`: where every API version's paths start (the Runtime API's
    /// `/2018-06-01`, the Extensions API's `/2020-01-01`, the Telemetry API's `/2022-07-01`).
    pub(crate) fn root(&self) -> &str {
        &self.url[..self.url.len() - crate::protocol::API_VERSION.len()]
    }

    /// The path every endpoint is under, e.g. `/2018-06-01` or `/.rt/fn/2018-06-01`.
    pub(crate) fn path(&self) -> &str {
        &self.url[self.path_start..]
    }

    /// `host:port`, with the port written out (80 when the address named none): what a streamed
    /// response connects to and names in its `Host` header.
    pub(crate) fn host_port(&self) -> String {
        let authority = &self.url["http://".len()..self.path_start];
        match self.default_port {
            Some(port) => format!("{authority}:{port}"),
            None => authority.to_owned(),
        }
    }

    /// Whether an invocation with this request id can be answered at all: its
    /// `/runtime/invocation/{request-id}/response` URI must stay within the longest URI the HTTP
    /// layer builds (`http`'s limit, 65 534 bytes). A longer id is refused for every answer, so
    /// it is never sent.
    pub(crate) fn can_address(&self, request_id: &str) -> bool {
        let room = MAX_URI_BYTES
            .saturating_sub(self.url.len() + PATH_INVOCATION.len() + PATH_RESPONSE_SUFFIX.len());
        // Every id of Lambda's (a UUID) fits even with each byte percent-encoded: not counted.
        if 3 * request_id.len() <= room {
            return true;
        }
        let dot_segment = is_dot_segment(request_id);
        let encoded: usize = request_id
            .bytes()
            .map(|b| encoded_len(b, dot_segment))
            .sum();
        encoded <= room
    }
}

/// The longest URI the `http` crate parses (`u16::MAX - 1`).
const MAX_URI_BYTES: usize = 65_534;

/// Writes `request_id` for a path, in pieces to `push`, percent-encoding all but URL-safe
/// characters, and the dots of an id that is all dots: `.` and `..` as a path segment would be
/// read as "this" and "the parent" directory, and the answer would go to another path. A
/// Lambda request id (a UUID) is one piece.
pub(crate) fn encode_request_id(request_id: &str, mut push: impl FnMut(&str)) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let dot_segment = is_dot_segment(request_id);
    let mut rest = request_id;
    while !rest.is_empty() {
        let safe = match dot_segment {
            true => 0,
            false => rest
                .bytes()
                .position(|b| !url_safe(b))
                .unwrap_or(rest.len()),
        };
        let (piece, tail) = rest.split_at(safe);
        push(piece);
        let Some(&b) = tail.as_bytes().first() else {
            break;
        };
        let encoded = [b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]];
        // ASCII, so always UTF-8.
        push(std::str::from_utf8(&encoded).unwrap_or_default());
        // `b` starts the tail; the tail's next character boundary may be further on (UTF-8),
        // so the rest of that character is encoded byte by byte, as the id's bytes are.
        let mut bytes = tail.as_bytes()[1..].iter();
        while let Some(&b) = bytes.clone().next().filter(|&&b| b & 0xC0 == 0x80) {
            let encoded = [b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]];
            push(std::str::from_utf8(&encoded).unwrap_or_default());
            bytes.next();
        }
        rest = &tail[tail.len() - bytes.as_slice().len()..];
    }
}

#[inline(always)]
fn is_dot_segment(request_id: &str) -> bool {
    matches!(request_id, "." | "..")
}

/// How many bytes `b` of a request id takes in a path: 1, or 3 percent-encoded (every byte of an
/// id that is a dot-segment).
#[inline(always)]
fn encoded_len(b: u8, dot_segment: bool) -> usize {
    if url_safe(b) && !dot_segment { 1 } else { 3 }
}

/// A byte a path may hold as it is (RFC 3986's unreserved characters).
#[inline(always)]
fn url_safe(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// Opens a TCP connection to the first of `addrs` that takes it, with Nagle's delay off: a
/// request (or a chunk of a stream) goes out when it is written. For both kinds of request.
pub(crate) fn connect(addrs: impl IntoIterator<Item = SocketAddr>) -> io::Result<TcpStream> {
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect(addr) {
            Ok(stream) => {
                stream.set_nodelay(true)?;
                return Ok(stream);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no address to connect to")))
}

/// What the Runtime API's status for a posted response or error means; `None` when it is a
/// container error (5xx), after which the runtime must exit. For both kinds of request.
pub(crate) fn posted(status: u16) -> Option<Posted> {
    Some(match status {
        200..=299 => Posted::Accepted,
        413 => Posted::TooLarge,
        410 => Posted::Gone,
        500..=599 => return None,
        _ => Posted::Refused(status),
    })
}

/// Whether a request failed because the network did (the connection was refused, reset, closed,
/// or the answer came cut off or garbled): then sending it again on a new connection may work.
/// Otherwise it failed on this runtime's own limits or on something it built (see
/// [`not_network`]), and it would fail the same way every time.
pub(crate) fn network_failed(error: &io::Error) -> bool {
    !error
        .get_ref()
        .is_some_and(|inner| inner.is::<NotNetwork>())
}

/// A failure that is not the network's: a request this runtime will not send (a header value
/// with a line break in it) or an answer it will not read (a head over 64 KiB or 128 headers, a
/// body over what the call reads). Sent again, it would fail again.
pub(crate) fn not_network(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, NotNetwork(what))
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct NotNetwork(String);

/// An answer's head as read, its header names in lower case (`direct` puts them so).
pub(crate) struct RawHeaders<'a>(&'a [u8]);

impl<'a> RawHeaders<'a> {
    pub(crate) fn new(head: &'a [u8]) -> Self {
        RawHeaders(head)
    }

    /// The headers, as (name, value) with the value's surrounding whitespace trimmed.
    pub(crate) fn pairs(&self) -> impl Iterator<Item = (&'a str, &'a [u8])> + use<'a> {
        self.0.split(|&b| b == b'\n').skip(1).filter_map(|line| {
            let colon = line.iter().position(|&b| b == b':')?;
            let name = std::str::from_utf8(&line[..colon]).ok()?;
            Some((name, line[colon + 1..].trim_ascii()))
        })
    }
}

/// The length of the head at the front of `buf`, through the empty line that ends it (`\r\n` or
/// a bare `\n`), once it is all there.
pub(crate) fn head_len(buf: &[u8]) -> Option<usize> {
    let mut start = 0;
    while let Some(end) = buf[start..].iter().position(|&b| b == b'\n') {
        let line = &buf[start..start + end];
        if start > 0 && line.strip_suffix(b"\r").unwrap_or(line).is_empty() {
            return Some(start + end + 1);
        }
        start += end + 1;
    }
    None
}

/// The value of header `name` (lower case) in a raw HTTP head, which may be cut off; what a
/// head too large to parse still says.
pub(crate) fn raw_header<'a>(head: &'a [u8], name: &str) -> Option<&'a str> {
    head.split(|&b| b == b'\n').skip(1).find_map(|line| {
        let colon = line.iter().position(|&b| b == b':')?;
        let (key, value) = (&line[..colon], &line[colon + 1..]);
        if !key.eq_ignore_ascii_case(name.as_bytes()) {
            return None;
        }
        let value = std::str::from_utf8(value).ok()?.trim();
        (!value.is_empty()).then_some(value)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(id: &str) -> String {
        let mut out = String::new();
        encode_request_id(id, |piece| out.push_str(piece));
        out
    }

    #[test]
    fn request_ids_are_percent_encoded_and_never_dot_segments() {
        assert_eq!(encoded("8476a536-e9f4-11e8"), "8476a536-e9f4-11e8");
        assert_eq!(encoded("a/b c?é"), "a%2Fb%20c%3F%C3%A9");
        assert_eq!(encoded("."), "%2E");
        assert_eq!(encoded(".."), "%2E%2E");
        assert_eq!(encoded("..."), "...");
        assert_eq!(encoded("a.b"), "a.b");
        assert_eq!(encoded("é/😀x"), "%C3%A9%2F%F0%9F%98%80x");
        assert_eq!(encoded(""), "");
    }

    #[test]
    fn the_base_url_knows_its_path_and_port() {
        let b = BaseUrl::new(
            "http://127.0.0.1:9001/2018-06-01".into(),
            "127.0.0.1:9001",
            9001,
        );
        assert_eq!(
            (b.path(), b.host_port().as_str()),
            ("/2018-06-01", "127.0.0.1:9001")
        );
        let b = BaseUrl::new("http://[::1]/.rt/fn/2018-06-01".into(), "[::1]", 80);
        assert_eq!(
            (b.path(), b.host_port().as_str()),
            ("/.rt/fn/2018-06-01", "[::1]:80")
        );
        assert_eq!(b.root(), "http://[::1]/.rt/fn");
    }

    #[test]
    fn a_request_id_too_long_for_a_uri_cannot_be_addressed() {
        let b = BaseUrl::new("http://h:1/2018-06-01".into(), "h:1", 1);
        assert!(b.can_address(&"a".repeat(60_000)));
        assert!(!b.can_address(&"a".repeat(65_534)));
        assert!(!b.can_address(&"%".repeat(30_000)));
    }

    #[test]
    fn raw_headers_are_found_in_a_cut_off_head() {
        let head = b"HTTP/1.1 200 OK\r\nX: 1\r\nlambda-runtime-aws-request-id:  abc \r\nY: ";
        assert_eq!(
            raw_header(head, "lambda-runtime-aws-request-id"),
            Some("abc")
        );
        assert_eq!(raw_header(head, "y"), None);
        assert_eq!(raw_header(b"HTTP/1.1 200 OK\r\n", "x"), None);
    }
}
