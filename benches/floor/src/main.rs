//! The floor of the cold-start benchmark: the least any Lambda runtime can do.
//!
//! One `TcpStream`, one `write` per request (`GET /next`, and `POST /response` with headers and
//! body in a single `writev`), and the least parsing of an answer that works: find the end of
//! the headers, the request id and `Content-Length`. No allocation once the buffers have grown
//! to the largest event. It serves `echo` and `fibonacci` (`_HANDLER`), like the bootstrap.
//!
//! It is a yardstick, not a runtime: it knows no error path, no chunked bodies, no reconnect,
//! and it exits on anything unexpected.

use std::io::{self, IoSlice, Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;

fn main() -> ExitCode {
    match serve() {
        Ok(never) => match never {},
        Err(e) => {
            eprintln!("floor: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve() -> io::Result<std::convert::Infallible> {
    let api = std::env::var("AWS_LAMBDA_RUNTIME_API")
        .map_err(|_| io::Error::other("AWS_LAMBDA_RUNTIME_API is not set"))?;
    // Only `host:port` (what Lambda gives); an emulator's URL with a path is out of scope here.
    let host = api
        .strip_prefix("http://")
        .unwrap_or(&api)
        .trim_end_matches('/');
    let fibonacci = std::env::var("_HANDLER").as_deref() == Ok("fibonacci");

    let mut stream = TcpStream::connect(host)?;
    stream.set_nodelay(true)?;
    let next = format!("GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: {host}\r\n\r\n");
    let mut input = Input::default();
    let mut head = Vec::with_capacity(256);
    let mut result = Vec::with_capacity(64);
    loop {
        stream.write_all(next.as_bytes())?;
        let answer = input.read_answer(&mut stream)?;
        let id = answer
            .request_id
            .ok_or_else(|| io::Error::other("no Lambda-Runtime-Aws-Request-Id"))?;
        let event = &input.buf[answer.body.clone()];
        let body: &[u8] = if fibonacci {
            result.clear();
            let n = parse_n(event).ok_or_else(|| io::Error::other("no \"n\" in the event"))?;
            write!(result, "{{\"n\":{n},\"result\":{}}}", fib(n))?;
            &result
        } else {
            event
        };
        head.clear();
        head.extend_from_slice(b"POST /2018-06-01/runtime/invocation/");
        head.extend_from_slice(&input.buf[id]);
        write!(
            head,
            "/response HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )?;
        write_all_vectored(&mut stream, &mut [IoSlice::new(&head), IoSlice::new(body)])?;
        input.consume(answer.body.end);
        let accepted = input.read_answer(&mut stream)?;
        input.consume(accepted.body.end);
    }
}

/// Bytes read from the stream, and how many of them are still to be used.
#[derive(Default)]
struct Input {
    buf: Vec<u8>,
    filled: usize,
}

/// Where one HTTP answer's parts sit in `Input::buf`.
struct Answer {
    request_id: Option<std::ops::Range<usize>>,
    body: std::ops::Range<usize>,
}

impl Input {
    /// Reads until one whole answer (headers and `Content-Length` bytes of body) is buffered.
    fn read_answer(&mut self, stream: &mut TcpStream) -> io::Result<Answer> {
        let head_end = loop {
            if let Some(i) = self.buf[..self.filled]
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
            {
                break i + 4;
            }
            self.fill(stream)?;
        };
        let mut request_id = None;
        let mut content_length = 0;
        let mut at = 0;
        for line in self.buf[..head_end].split(|&b| b == b'\n') {
            let start = at;
            at += line.len() + 1;
            let Some(colon) = line.iter().position(|&b| b == b':') else {
                continue;
            };
            let name = &line[..colon];
            let value = trim(&line[colon + 1..]);
            if name.eq_ignore_ascii_case(b"content-length") {
                content_length = parse_usize(value)?;
            } else if name.eq_ignore_ascii_case(b"lambda-runtime-aws-request-id") {
                let offset = start + (value.as_ptr() as usize - line.as_ptr() as usize);
                request_id = Some(offset..offset + value.len());
            }
        }
        let body = head_end..head_end + content_length;
        while self.filled < body.end {
            self.fill(stream)?;
        }
        Ok(Answer { request_id, body })
    }

    /// Reads once from the stream, growing the buffer when it is full.
    // The harness's Runtime API reads the same way (bench-support): kept apart, as the floor is
    // the thing measured and depends on nothing.
    fn fill(&mut self, stream: &mut TcpStream) -> io::Result<()> {
        if self.filled == self.buf.len() {
            self.buf.resize((self.buf.len() * 2).max(64 * 1024), 0);
        }
        match stream.read(&mut self.buf[self.filled..])? {
            0 => Err(io::ErrorKind::UnexpectedEof.into()),
            n => {
                self.filled += n;
                Ok(())
            }
        }
    }

    /// Drops the first `used` bytes; anything read beyond them moves to the front.
    fn consume(&mut self, used: usize) {
        self.buf.copy_within(used..self.filled, 0);
        self.filled -= used;
    }
}

fn write_all_vectored(stream: &mut TcpStream, mut bufs: &mut [IoSlice<'_>]) -> io::Result<()> {
    while !bufs.is_empty() {
        match stream.write_vectored(bufs)? {
            0 => return Err(io::ErrorKind::WriteZero.into()),
            n => IoSlice::advance_slices(&mut bufs, n),
        }
    }
    Ok(())
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t' | b'\r', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t' | b'\r'] = s {
        s = rest;
    }
    s
}

fn parse_usize(digits: &[u8]) -> io::Result<usize> {
    std::str::from_utf8(digits)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::other("bad Content-Length"))
}

/// The number after `"n":` in the event, without a JSON parser.
fn parse_n(event: &[u8]) -> Option<u64> {
    let at = event.windows(4).position(|w| w == b"\"n\":")? + 4;
    let digits = trim(&event[at..]);
    let end = digits
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(digits.len());
    std::str::from_utf8(&digits[..end]).ok()?.parse().ok()
}

fn fib(n: u64) -> u64 {
    let (mut a, mut b) = (0u64, 1u64);
    for _ in 0..n {
        (a, b) = (b, a.wrapping_add(b));
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn n_is_found_without_a_json_parser() {
        assert_eq!(parse_n(br#"{"n":35}"#), Some(35));
        assert_eq!(parse_n(br#"{"x":1, "n": 7 }"#), Some(7));
        assert_eq!(parse_n(br#"{"m":1}"#), None);
        assert_eq!(fib(35), 9_227_465);
    }
}
