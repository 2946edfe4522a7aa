//! The HTTP listener the Telemetry API posts batches to: one thread, one request per connection,
//! bounded reads, a 200 for every batch read whole.
//!
//! Each connection is answered with `Connection: close`, so a client that is slow or stalls
//! holds the one thread only until its read timeout, never while idle between batches.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::telemetry::{TelemetryType, parse_batch};
use crate::{ExtensionError, TelemetryEvent};

/// Where the listener binds, what it tells Lambda, and its limits.
#[derive(Debug, Clone)]
pub struct ListenerConfig {
    /// The address to bind: in Lambda, `0.0.0.0:<port>` (the sandbox's own interface).
    pub address: String,
    /// The host named in the subscription's URI: `sandbox.localdomain` in Lambda.
    pub uri_host: String,
    /// Lambda's buffering: at least 1 000 events, 262 144 bytes and 25 ms (AWS's minimums).
    pub max_items: u32,
    pub max_bytes: u32,
    pub timeout_ms: u32,
    /// The largest batch body read; a larger one is answered 413.
    pub max_body_bytes: usize,
    /// How long one request may take to arrive; a slower one is dropped.
    pub read_timeout: Duration,
}

impl Default for ListenerConfig {
    fn default() -> Self {
        ListenerConfig {
            address: "0.0.0.0:4243".into(),
            uri_host: "sandbox.localdomain".into(),
            max_items: 1000,
            max_bytes: 256 * 1024,
            timeout_ms: 100,
            max_body_bytes: 4 * 1024 * 1024,
            read_timeout: Duration::from_secs(5),
        }
    }
}

/// The longest request head read, and the most header lines.
const MAX_HEAD_BYTES: usize = 16 * 1024;
const MAX_HEADERS: usize = 64;

/// A running listener; its thread lives as long as the process.
pub struct TelemetryListener {
    port: u16,
    config: ListenerConfig,
    /// Held while a batch is answered and handed to the callback.
    busy: Arc<Mutex<()>>,
}

impl TelemetryListener {
    /// Binds `config.address` and starts the thread that hands each batch to `handle`.
    pub fn start(
        config: ListenerConfig,
        handle: impl FnMut(Vec<TelemetryEvent>) + Send + 'static,
    ) -> Result<TelemetryListener, ExtensionError> {
        let failed = |source| ExtensionError::Listener {
            address: config.address.clone(),
            source,
        };
        let listener = TcpListener::bind(&config.address).map_err(failed)?;
        let port = listener.local_addr().map_err(failed)?.port();
        let busy = Arc::new(Mutex::new(()));
        let serving = Serving {
            busy: Arc::clone(&busy),
            max_body_bytes: config.max_body_bytes,
            read_timeout: config.read_timeout,
        };
        std::thread::Builder::new()
            .name("telemetry-listener".into())
            .spawn(move || serving.run(listener, handle))
            .map_err(failed)?;
        Ok(TelemetryListener { port, config, busy })
    }

    /// The port it listens on (the one asked for, or the one the system gave for port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The destination URI subscriptions name: `http://{uri_host}:{port}/`.
    pub fn uri(&self) -> String {
        format!("http://{}:{}/", self.config.uri_host, self.port)
    }

    /// Waits until no batch is being answered or handled: every batch answered 200 so far has
    /// been handed to the callback. For a flush on SHUTDOWN.
    pub fn wait_idle(&self) {
        drop(self.busy.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// The `PUT /telemetry` body subscribing this listener to `types`.
    pub(crate) fn subscription(&self, types: &[TelemetryType]) -> Vec<u8> {
        let types: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
        let body = serde_json::json!({
            "schemaVersion": "2022-12-13",
            "types": types,
            "buffering": {
                "maxItems": self.config.max_items,
                "maxBytes": self.config.max_bytes,
                "timeoutMs": self.config.timeout_ms,
            },
            "destination": {"protocol": "HTTP", "URI": self.uri()},
        });
        serde_json::to_vec(&body).unwrap_or_default()
    }
}

struct Serving {
    busy: Arc<Mutex<()>>,
    max_body_bytes: usize,
    read_timeout: Duration,
}

/// How a request ended when it was not a batch read whole.
enum Refusal {
    /// Answered with this status and line.
    Status(u16, &'static str),
    /// The connection failed or timed out: nothing to answer.
    Dropped(io::Error),
}

impl Serving {
    fn run(self, listener: TcpListener, mut handle: impl FnMut(Vec<TelemetryEvent>)) {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else {
                continue;
            };
            let _ = stream.set_read_timeout(Some(self.read_timeout));
            let _ = stream.set_write_timeout(Some(self.read_timeout));
            match self.read_batch(&mut stream) {
                Ok(body) => {
                    let _busy = self.busy.lock().unwrap_or_else(|e| e.into_inner());
                    let _ = answer(&mut stream, 200, "OK");
                    drop(stream);
                    match parse_batch(&body) {
                        Ok(events) => handle(events),
                        Err(reason) => log::warn!(
                            "a telemetry batch of {} bytes is not a JSON array of events ({reason}); dropped",
                            body.len()
                        ),
                    }
                }
                Err(Refusal::Status(status, reason)) => {
                    log::warn!("a telemetry request was refused: {status} {reason}");
                    let _ = answer(&mut stream, status, reason);
                    drain(&mut stream);
                }
                Err(Refusal::Dropped(e)) => {
                    log::warn!("a telemetry request did not arrive whole ({e}); dropped")
                }
            }
        }
    }

    /// Reads one request; its body when it is a POST of a batch within the limits.
    fn read_batch(&self, stream: &mut TcpStream) -> Result<Vec<u8>, Refusal> {
        let mut reader = BufReader::new(stream.take(MAX_HEAD_BYTES as u64));
        let mut line = String::new();
        read_line(&mut reader, &mut line)?;
        let method = line
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned();
        let mut length = None;
        let mut lines = 0;
        loop {
            line.clear();
            read_line(&mut reader, &mut line)?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            lines += 1;
            if lines > MAX_HEADERS {
                return Err(Refusal::Status(431, "Request Header Fields Too Large"));
            }
            let Some((name, value)) = header.split_once(':') else {
                return Err(Refusal::Status(400, "Bad Request"));
            };
            let name = name.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(
                    value
                        .trim()
                        .parse::<usize>()
                        .map_err(|_| Refusal::Status(400, "Bad Request"))?,
                );
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                return Err(Refusal::Status(411, "Length Required"));
            }
        }
        if method != "POST" {
            return Err(Refusal::Status(405, "Method Not Allowed"));
        }
        let length = length.ok_or(Refusal::Status(411, "Length Required"))?;
        if length > self.max_body_bytes {
            return Err(Refusal::Status(413, "Content Too Large"));
        }
        // What the head's reader already took of the body, then the rest from the stream.
        let mut body = reader.buffer().to_vec();
        body.truncate(length);
        let have = body.len();
        body.resize(length, 0);
        let stream = reader.into_inner().into_inner();
        stream
            .read_exact(&mut body[have..])
            .map_err(Refusal::Dropped)?;
        Ok(body)
    }
}

/// One line of the head; a head cut off or over its limit is refused.
fn read_line(reader: &mut impl BufRead, line: &mut String) -> Result<(), Refusal> {
    match reader.read_line(line) {
        Ok(0) => Err(Refusal::Dropped(io::ErrorKind::UnexpectedEof.into())),
        Ok(_) if !line.ends_with('\n') => {
            Err(Refusal::Status(431, "Request Header Fields Too Large"))
        }
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::InvalidData => {
            Err(Refusal::Status(400, "Bad Request"))
        }
        Err(e) => Err(Refusal::Dropped(e)),
    }
}

/// Reads (and drops) what the client still sends after a refusal, for a short while: closing a
/// socket with unread input resets the connection, and the client may lose the answer with it.
fn drain(stream: &mut TcpStream) {
    const MAX_DRAINED_BYTES: usize = 1024 * 1024;
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let mut sink = [0u8; 8192];
    let mut drained = 0;
    while drained < MAX_DRAINED_BYTES {
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => return,
            Ok(n) => drained += n,
        }
    }
}

fn answer(stream: &mut TcpStream, status: u16, reason: &str) -> io::Result<()> {
    let head =
        format!("HTTP/1.1 {status} {reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    stream.write_all(head.as_bytes())?;
    stream.flush()
}
