//! The connection under ureq: one TCP stream to the Runtime API, buffers that cost memory only
//! where they are used, and each request sent in one write. Plugged into ureq through its
//! `Connector` and `Transport` traits, in place of its `TcpConnector`.
//!
//! What it does differently from ureq's own TCP transport, each measured when it was made
//! (callgrind, the coldstart benchmark):
//!
//! - **Buffers from `calloc`.** ureq's buffers are grown with `Vec::resize`, which writes every
//!   byte: two 32 KiB buffers were most of the instructions from `exec` to the first `/next`, and
//!   16 pages of memory. These are `vec![0; n]` of at least the allocators' `mmap`
//!   threshold (musl 131 052 B, glibc 128 KiB): fresh pages from the kernel, already zero, that
//!   count against memory only once written.
//! - **No liveness probe.** ureq checks a pooled connection before and after each use (set
//!   non-blocking, peek a byte, set blocking: six system calls per request, more than the request
//!   itself). The Runtime API keeps its connection open; when it does close one, the next request
//!   on it fails and is retried at once on a new connection (`with_retries` in the loop).
//! - **One write per request.** ureq transmits a request's head, then its body, in two writes
//!   (two system calls, two TCP segments). The head is held back and sent with the first part of
//!   the body in one `writev`, or alone when the request has none (when ureq turns to read).
//!
//! The agent sets no timeouts (the `/next` long poll must never time out), so none are applied.

use std::io::{self, IoSlice, Read, Write};
use std::net::TcpStream;

use ureq::unversioned::transport::{Buffers, ConnectionDetails, Connector, NextTimeout, Transport};

/// The size of each of a connection's two buffers: ureq's own default, and above the allocators'
/// `mmap` threshold, so untouched pages cost nothing (see the module's documentation). A 64-byte
/// invocation touches one page of each.
pub(crate) const BUFFER_BYTES: usize = 128 * 1024;

/// ureq reads a request body from its source into the free part of the input buffer; it wants
/// at least this much room there (as its own buffers give).
const MIN_BODY_ROOM: usize = 10 * 1024;

/// Opens plain TCP connections to the Runtime API with [`RuntimeTransport`]s on them.
#[derive(Debug)]
pub(crate) struct RuntimeConnector;

impl Connector<()> for RuntimeConnector {
    type Out = RuntimeTransport<TcpStream>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        _chained: Option<()>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let stream = super::wire::connect(details.addrs.iter().copied())?;
        Ok(Some(RuntimeTransport::new(stream, BUFFER_BYTES)))
    }
}

/// A connection: the stream, its buffers, and a request head held back for its body.
#[derive(Debug)]
pub(crate) struct RuntimeTransport<S> {
    stream: S,
    buffers: RuntimeBuffers,
    /// A request head held back until its body (or the turn to read) comes.
    head: Vec<u8>,
    /// The next output is the head of a new request.
    next_is_head: bool,
}

impl<S: Read + Write> RuntimeTransport<S> {
    pub(crate) fn new(stream: S, buffer_bytes: usize) -> Self {
        RuntimeTransport {
            stream,
            buffers: RuntimeBuffers::new(buffer_bytes),
            head: Vec::new(),
            next_is_head: true,
        }
    }

    /// Writes the held head (if any) and `body` in as few system calls as the kernel allows.
    fn send(&mut self, body_len: usize) -> io::Result<()> {
        let body = &self.buffers.output[..body_len];
        let mut parts = [IoSlice::new(&self.head), IoSlice::new(body)];
        let mut parts = &mut parts[..];
        IoSlice::advance_slices(&mut parts, 0);
        while !parts.is_empty() {
            match self.stream.write_vectored(parts) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => IoSlice::advance_slices(&mut parts, n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.head.clear();
        Ok(())
    }
}

impl<S: Read + Write + Send + Sync + std::fmt::Debug + 'static> Transport for RuntimeTransport<S> {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, _timeout: NextTimeout) -> Result<(), ureq::Error> {
        if self.next_is_head {
            self.next_is_head = false;
            self.head.clear();
            self.head.extend_from_slice(&self.buffers.output[..amount]);
            return Ok(());
        }
        Ok(self.send(amount)?)
    }

    fn await_input(&mut self, _timeout: NextTimeout) -> Result<bool, ureq::Error> {
        // The request is complete (a GET has no body): what is held goes now.
        if !self.head.is_empty() {
            self.send(0)?;
        }
        self.next_is_head = true;
        let free = self.buffers.input_append_buf();
        let read = loop {
            match self.stream.read(free) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        };
        self.buffers.input_appended(read);
        Ok(read > 0)
    }

    fn is_open(&mut self) -> bool {
        true
    }
}

/// The two buffers, as ureq's `Buffers` trait wants them: the input with a consumed and a filled
/// mark, the output written from the start each time.
#[derive(Debug)]
pub(crate) struct RuntimeBuffers {
    input: Vec<u8>,
    /// `input[consumed..filled]` is read but not yet used by ureq.
    consumed: usize,
    filled: usize,
    /// Whether ureq's last `input_consume` used anything: if not, it needs more input before the
    /// unconsumed part is worth another look.
    progress: bool,
    output: Vec<u8>,
}

impl RuntimeBuffers {
    fn new(bytes: usize) -> Self {
        RuntimeBuffers {
            // `vec![0; n]` allocates zeroed memory (`calloc`): see the module's documentation.
            input: vec![0; bytes],
            consumed: 0,
            filled: 0,
            progress: false,
            output: vec![0; bytes],
        }
    }

    /// Moves unconsumed input to the front when that frees room: at once when all of it is
    /// consumed, otherwise once more than half the buffer is filled.
    fn make_room(&mut self) {
        if self.consumed == 0 {
            return;
        }
        if self.consumed == self.filled {
            self.consumed = 0;
            self.filled = 0;
        } else if self.filled > self.input.len() / 2 {
            self.input.copy_within(self.consumed..self.filled, 0);
            self.filled -= self.consumed;
            self.consumed = 0;
        }
    }
}

impl Buffers for RuntimeBuffers {
    fn output(&mut self) -> &mut [u8] {
        &mut self.output
    }

    fn input(&self) -> &[u8] {
        &self.input[self.consumed..self.filled]
    }

    fn input_append_buf(&mut self) -> &mut [u8] {
        self.make_room();
        if self.filled == self.input.len() {
            // A head larger than the buffer: grow rather than stall.
            self.input.resize(self.input.len() * 2, 0);
        }
        &mut self.input[self.filled..]
    }

    fn input_appended(&mut self, amount: usize) {
        self.filled = (self.filled + amount).min(self.input.len());
    }

    fn input_consume(&mut self, amount: usize) {
        self.progress = amount > 0;
        self.consumed = (self.consumed + amount).min(self.filled);
    }

    fn tmp_and_output(&mut self) -> (&mut [u8], &mut [u8]) {
        self.make_room();
        if self.input.len() - self.filled < MIN_BODY_ROOM {
            self.input.resize(self.filled + MIN_BODY_ROOM, 0);
        }
        (&mut self.input[self.filled..], &mut self.output)
    }

    fn can_use_input(&self) -> bool {
        self.filled > self.consumed && self.progress
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stream that records each write call and answers reads from a script.
    #[derive(Debug, Default)]
    struct Recorder {
        writes: Vec<Vec<u8>>,
        to_read: Vec<u8>,
    }

    impl Write for Recorder {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.writes.push(buf.to_vec());
            Ok(buf.len())
        }
        fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
            self.writes
                .push(bufs.iter().flat_map(|b| b.iter().copied()).collect());
            Ok(bufs.iter().map(|b| b.len()).sum())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Read for Recorder {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.to_read.len());
            buf[..n].copy_from_slice(&self.to_read[..n]);
            self.to_read.drain(..n);
            Ok(n)
        }
    }

    /// Writes `bytes` into the output buffer and transmits them, as ureq does.
    fn transmit(t: &mut RuntimeTransport<Recorder>, bytes: &[u8]) {
        t.buffers().output()[..bytes.len()].copy_from_slice(bytes);
        t.transmit_output(bytes.len(), NextTimeout::default())
            .unwrap();
    }

    #[test]
    fn head_and_body_leave_in_one_write_and_a_get_in_one_too() {
        let mut t = RuntimeTransport::new(Recorder::default(), 64);
        transmit(&mut t, b"POST /r HTTP/1.1\r\n\r\n");
        transmit(&mut t, b"{\"a\":1}");
        t.await_input(NextTimeout::default()).unwrap();
        transmit(&mut t, b"GET /next HTTP/1.1\r\n\r\n");
        t.await_input(NextTimeout::default()).unwrap();
        assert_eq!(
            t.stream.writes,
            [
                b"POST /r HTTP/1.1\r\n\r\n{\"a\":1}".to_vec(),
                b"GET /next HTTP/1.1\r\n\r\n".to_vec()
            ]
        );
    }

    #[test]
    fn body_parts_after_the_first_follow_in_order() {
        let mut t = RuntimeTransport::new(Recorder::default(), 16);
        transmit(&mut t, b"HEAD-");
        transmit(&mut t, &[b'x'; 16]);
        transmit(&mut t, b"tail");
        t.await_input(NextTimeout::default()).unwrap();
        assert_eq!(
            t.stream.writes,
            [[&b"HEAD-"[..], &[b'x'; 16]].concat(), b"tail".to_vec()]
        );
    }

    #[test]
    fn input_is_appended_consumed_and_reused_from_the_front() {
        let mut t = RuntimeTransport::new(Recorder::default(), 32);
        t.stream.to_read = b"HTTP/1.1 202\r\n\r\n".to_vec();
        assert!(t.await_input(NextTimeout::default()).unwrap());
        let b = t.buffers();
        assert_eq!(b.input(), b"HTTP/1.1 202\r\n\r\n");
        b.input_consume(9);
        assert!(b.can_use_input());
        assert_eq!(b.input(), b"202\r\n\r\n");
        b.input_consume(7);
        assert!(!b.can_use_input());
        // All consumed: the next read lands at the front again, the whole buffer free.
        assert_eq!(b.input_append_buf().len(), 32);
        // The end of the stream reads as no progress.
        assert!(!t.await_input(NextTimeout::default()).unwrap());
    }

    #[test]
    fn a_parser_that_used_nothing_waits_for_more_input() {
        let mut b = RuntimeBuffers::new(32);
        b.input_append_buf()[..4].copy_from_slice(b"HTTP");
        b.input_appended(4);
        b.input_consume(0);
        assert!(!b.can_use_input());
        assert_eq!(b.input(), b"HTTP");
    }

    #[test]
    fn a_full_input_buffer_grows_and_the_body_room_is_kept() {
        let mut b = RuntimeBuffers::new(16);
        let free = b.input_append_buf().len();
        b.input_appended(free);
        assert!(b.input_append_buf().len() >= 16);
        let (tmp, _) = b.tmp_and_output();
        assert!(tmp.len() >= MIN_BODY_ROOM);
    }
}
