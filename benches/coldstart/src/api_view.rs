//! `coldstart api-view`: the round trip as the Runtime API sees it, on one CPU shared by the API
//! and the runtime (issue 21's method), beside the cold-start benchmark's own.
//!
//! On Lambda's smaller memory sizes the Runtime API runs in the same sandbox as the function, on
//! a fraction of a vCPU: whatever the runtime does after writing its answer and before it blocks
//! in its next read runs before the API can read that answer. The cold-start benchmark's warm
//! round trip starts before the event is written, on a server with a thread per connection,
//! locks and condition variables; here the API is one thread (the harness's main thread, pinned
//! with every bootstrap to one CPU) that waits with `poll` and reads and writes blocking, and the
//! window is **the event's last byte written** (the kernel's send timestamp) → **the POST's last
//! byte read**. The time the API's `write` returned and the cold-start benchmark's start (the
//! event about to be written) are taken in the same run, so the methods show side by side.
//!
//! Per round, A A′ B B′ (ours, the floor; ′: the binary out of the page cache, init only). Per
//! start: init (spawn → the first `GET /next` read, with the page faults of init), the first
//! invocation, then N warm ones; CPU per warm invocation from the threads' schedstat before and
//! after them (each read once all threads sleep in the poll), and `VmHWM`. Written to
//! `benches/results/api-view/` (`api-view.md`, `api-view.csv`).

use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::bootstraps::{self, Binary, Bootstrap, Sources};
use crate::pagecache;
use crate::procfs;
use bench_support::cli;
use bench_support::lambda_env;
use bench_support::report::{machine, utc_now};
use bench_support::runtime_api::{self as server, Endpoint as Kind, RequestReader};
use bench_support::stats::{median, percentile};

use crate::server::Expected;

const USAGE: &str = "\
usage: cargo run --release -p coldstart -- api-view [options]

  --starts K        starts per bootstrap (default 20), each also once out of the page cache
  --warm N          warm invocations per start (default 3000)
  --cpu C           the CPU the harness (the API) and every bootstrap share (default 1)
  --quick           K=3, N=200, results in target/coldstart-quick/api-view/, not judged
  --out DIR         where api-view.md and api-view.csv go (default benches/results/api-view/)
  --ours/--official/--floor PATH, --no-build, --verbose: as for the cold-start benchmark";

/// The event: the cold-start benchmark's echo of 64 B.
const PAYLOAD_BYTES: usize = 64;

struct Options {
    starts: u32,
    warm: u32,
    cpu: usize,
    out: PathBuf,
    sources: Sources,
    verbose: bool,
    quick: bool,
}

/// One start's figures.
struct Sample {
    bootstrap: usize,
    start: u32,
    evicted: bool,
    resident_pages: u64,
    init_ns: u64,
    major_faults: u64,
    minor_faults: u64,
    /// The event's last byte written → the POST's last byte read, each warm invocation.
    after_write_ns: Vec<u64>,
    /// The API's `write` of the event returned → the POST's last byte read.
    write_returned_ns: Vec<u64>,
    /// The event about to be written → the POST's last byte read (the cold-start benchmark's).
    before_write_ns: Vec<u64>,
    cpu_per_warm_ns: Option<u64>,
    peak_rss_kib: Option<u64>,
    failures: u32,
}

pub fn main(args: impl Iterator<Item = String>) -> ExitCode {
    cli::exit(parse(args), run, "see the failures column of api-view.csv")
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let root = bench_support::build::workspace_root();
    let mut options = Options {
        starts: 20,
        warm: 3000,
        cpu: 1,
        out: root.join("benches/results/api-view"),
        sources: Sources {
            ours: None,
            official: None,
            floor: None,
            no_build: false,
        },
        verbose: false,
        quick: false,
    };
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        let number = |text: String| {
            text.parse::<u32>()
                .map_err(|_| format!("not a count: {text}"))
        };
        match arg.as_str() {
            "--starts" => options.starts = number(value()?)?.max(1),
            "--warm" => options.warm = number(value()?)?.max(1),
            "--cpu" => options.cpu = number(value()?)? as usize,
            "--quick" => {
                (options.starts, options.warm, options.quick) = (3, 200, true);
                options.out = root.join("target/coldstart-quick/api-view");
            }
            "--out" => options.out = PathBuf::from(value()?),
            "--ours" => options.sources.ours = Some(value()?.into()),
            "--official" => options.sources.official = Some(value()?.into()),
            "--floor" => options.sources.floor = Some(value()?.into()),
            "--no-build" => options.sources.no_build = true,
            "--verbose" => options.verbose = true,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown option {other}\n\n{USAGE}")),
        }
    }
    Ok(options)
}

fn run(options: &Options) -> Result<u32, String> {
    // Ours and the floor. `lambda_runtime` is left out: on this single-threaded API its process
    // stalled now and then (an answer never came: its pool keeps several connections and drops
    // some); its figures are those of the cold-start benchmark.
    let bootstraps: Vec<Bootstrap> = bootstraps::prepare(&options.sources, &["echo"])?
        .into_iter()
        .filter(|b| b.name != bootstraps::OFFICIAL)
        .collect();
    crate::pin_to_cpu(options.cpu)?;
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| format!("cannot listen on loopback: {e}"))?;
    let api = listener.local_addr().map_err(|e| e.to_string())?;
    let payload = crate::echo_payload(PAYLOAD_BYTES);
    let mut samples = Vec::new();
    for start in 0..options.starts {
        for (index, bootstrap) in bootstraps.iter().enumerate() {
            let binary = bootstrap.binary("echo");
            for evicted in [false, true] {
                let command = || lambda_env::command(&binary.path, api, "echo", options.verbose);
                // A start that stalls (seen with `lambda_runtime` now and then) is run again,
                // once: the figures are those of a start that went through.
                let sample = measure(&listener, command(), binary, &payload, evicted, options)
                    .or_else(|e| {
                        eprintln!("{} #{start}: {e}; starting it again", bootstrap.name);
                        measure(&listener, command(), binary, &payload, evicted, options)
                    })
                    .map_err(|e| format!("{} #{start}: {e}", bootstrap.name))?;
                samples.push(Sample {
                    bootstrap: index,
                    start,
                    ..sample
                });
            }
        }
        eprintln!("round {} of {} done", start + 1, options.starts);
    }
    std::fs::create_dir_all(&options.out).map_err(|e| e.to_string())?;
    let table = markdown(&bootstraps, &samples, options);
    for (name, text) in [
        ("api-view.md", &table),
        ("api-view.csv", &csv(&bootstraps, &samples)),
    ] {
        let path = options.out.join(name);
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    println!("{table}");
    Ok(samples.iter().map(|s| s.failures).sum())
}

/// The connections of one process: a runtime may open more than one (`lambda_runtime`'s pool
/// does), so the API waits on all of them and on the listener with `poll`, on one thread.
struct Connections<'l> {
    listener: &'l TcpListener,
    /// Every connection accepted, by index; one the client closed stays, out of the poll set, so
    /// indices do not move.
    open: Vec<(TcpStream, RequestReader)>,
    closed: Vec<bool>,
    /// A process that hangs or died fails the start at this time.
    deadline: Instant,
}

impl Connections<'_> {
    /// The next request on any connection (accepting new ones meanwhile), and which one it came
    /// on. Each client here sends a request only after the answer to its last one, so a request
    /// is never left waiting in a reader's buffer.
    fn next(&mut self, what: &str) -> Result<(usize, server::Request), String> {
        loop {
            let mut fds: Vec<libc::pollfd> = std::iter::once(self.listener.as_raw_fd())
                .chain(
                    self.open
                        .iter()
                        .zip(&self.closed)
                        .map(|((s, _), &closed)| if closed { -1 } else { s.as_raw_fd() }),
                )
                .map(|fd| libc::pollfd {
                    fd,
                    events: libc::POLLIN,
                    revents: 0,
                })
                .collect();
            // SAFETY: `fds` is a valid array of pollfd for the length given.
            let left = self.deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!(
                    "{what}: no request in time (the process hung or died)"
                ));
            }
            let ms = left.as_millis().min(i32::MAX as u128) as i32;
            let ready = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
            if ready < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(format!("{what}: poll: {e}"));
            }
            if fds[0].revents != 0 {
                let (stream, _) = self.listener.accept().map_err(|e| format!("accept: {e}"))?;
                let _ = stream.set_nodelay(true);
                // Bounds a read that poll woke but that does not complete a request yet.
                let _ = stream.set_read_timeout(Some(Duration::from_millis(20)));
                timestamp_sends(&stream)?;
                self.open.push((stream, RequestReader::default()));
                self.closed.push(false);
                continue;
            }
            let Some(at) = fds[1..].iter().position(|f| f.revents != 0) else {
                continue;
            };
            let (stream, reader) = &mut self.open[at];
            match reader.read_request(stream) {
                Ok(request) => return Ok((at, request)),
                // A connection the client closed (`lambda_runtime`'s pool drops some): wait on the
                // others.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset
                    ) =>
                {
                    self.closed[at] = true;
                }
                // Woken, but the request is not whole yet: what arrived stays in the reader,
                // which goes on from there at the next wake-up.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => return Err(format!("{what}: the connection failed: {e}")),
            }
        }
    }
}

/// Asks the kernel to timestamp, in software, each send on `stream` as it leaves for the
/// receiver (`SO_TIMESTAMPING`, `SOF_TIMESTAMPING_TX_SOFTWARE`): for loopback, the moment the last
/// byte is handed to the receiving socket, before the runtime is woken. On one CPU the API's
/// `write` may return only after the woken runtime ran (the scheduler may switch to it at once),
/// so the time `write` returns is not when the event was written.
fn timestamp_sends(stream: &TcpStream) -> Result<(), String> {
    let flags: libc::c_uint = libc::SOF_TIMESTAMPING_TX_SOFTWARE
        | libc::SOF_TIMESTAMPING_SOFTWARE
        | libc::SOF_TIMESTAMPING_OPT_TSONLY;
    // SAFETY: a plain setsockopt with a c_uint, on an open socket.
    let set = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPING,
            (&flags as *const libc::c_uint).cast(),
            std::mem::size_of::<libc::c_uint>() as libc::socklen_t,
        )
    };
    if set != 0 {
        return Err(format!("SO_TIMESTAMPING: {}", io::Error::last_os_error()));
    }
    Ok(())
}

/// The send timestamps queued on `stream` since the last call, oldest first (CLOCK_REALTIME).
fn send_timestamps(stream: &TcpStream) -> Vec<Duration> {
    let mut found = Vec::new();
    loop {
        let mut control = [0u64; 64];
        // SAFETY: msghdr is plain data; the control buffer outlives the call.
        let mut message: libc::msghdr = unsafe { std::mem::zeroed() };
        message.msg_control = control.as_mut_ptr().cast();
        message.msg_controllen = std::mem::size_of_val(&control) as _;
        // SAFETY: a valid msghdr; MSG_DONTWAIT, so it returns at once when the queue is empty.
        let got = unsafe {
            libc::recvmsg(
                stream.as_raw_fd(),
                &mut message,
                libc::MSG_ERRQUEUE | libc::MSG_DONTWAIT,
            )
        };
        if got < 0 {
            return found;
        }
        // SAFETY: walking the control messages recvmsg filled in, as CMSG_* are meant to be used.
        unsafe {
            let mut cmsg = libc::CMSG_FIRSTHDR(&message);
            while !cmsg.is_null() {
                if (*cmsg).cmsg_level == libc::SOL_SOCKET
                    && (*cmsg).cmsg_type == libc::SO_TIMESTAMPING
                {
                    // struct scm_timestamping: three timespecs, the first the software one.
                    let ts = libc::CMSG_DATA(cmsg)
                        .cast::<libc::timespec>()
                        .read_unaligned();
                    found.push(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32));
                }
                cmsg = libc::CMSG_NXTHDR(&message, cmsg);
            }
        }
    }
}

/// Now on CLOCK_REALTIME, the clock the kernel's send timestamps are on.
fn realtime() -> Duration {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
}

fn measure(
    listener: &TcpListener,
    mut command: std::process::Command,
    binary: &Binary,
    payload: &[u8],
    evicted: bool,
    options: &Options,
) -> Result<Sample, String> {
    let residency = if evicted {
        pagecache::evict(&binary.path)?
    } else {
        pagecache::load(&binary.path)?
    };
    let warm = if evicted { 0 } else { options.warm };
    // Connections a killed process left queued in the listener would be taken for this one's.
    let stale = drop_queued_connections(listener);
    if stale > 0 && options.verbose {
        eprintln!("dropped {stale} connection(s) left by an earlier process");
    }
    let (mut child, spawned, deadline) = crate::spawn(&mut command, binary, warm)?;
    let pid = child.id();
    let outcome = serve(listener, pid, spawned, deadline, payload, warm, evicted);
    let _ = child.kill();
    let _ = child.wait();
    let mut sample = outcome?;
    sample.evicted = evicted;
    sample.resident_pages = residency.resident;
    Ok(sample)
}

/// Accepts and closes whatever connections wait in `listener`; returns how many.
fn drop_queued_connections(listener: &TcpListener) -> usize {
    let mut dropped = 0;
    if listener.set_nonblocking(true).is_ok() {
        while listener.accept().is_ok() {
            dropped += 1;
        }
    }
    let _ = listener.set_nonblocking(false);
    dropped
}

/// The API's side of one start: one request at a time.
fn serve(
    listener: &TcpListener,
    pid: u32,
    spawned: Instant,
    deadline: Instant,
    payload: &[u8],
    warm: u32,
    evicted: bool,
) -> Result<Sample, String> {
    let mut connections = Connections {
        listener,
        open: Vec::new(),
        closed: Vec::new(),
        deadline,
    };
    let (mut on, poll) = connections.next("init")?;
    let init_ns = spawned.elapsed().as_nanos() as u64;
    connections.open[on].1.consume(poll.used);
    let mut sample = Sample {
        bootstrap: 0,
        start: 0,
        evicted,
        resident_pages: 0,
        init_ns,
        major_faults: procfs::major_faults(pid)?,
        minor_faults: procfs::minor_faults(pid)?,
        after_write_ns: Vec::with_capacity(warm as usize),
        write_returned_ns: Vec::with_capacity(warm as usize),
        before_write_ns: Vec::with_capacity(warm as usize),
        cpu_per_warm_ns: None,
        peak_rss_kib: None,
        failures: 0,
    };
    if evicted {
        return Ok(sample);
    }
    let (mut answer, id_at) = server::next_answer(payload);
    let expected = Expected::Bytes(payload.to_vec());
    let mut cpu_before = 0;
    for index in 0..=warm {
        if index == 1 {
            // The first invocation is done and the runtime polls again: the warm run starts
            // from a process asleep in its read, as it will be between invocations.
            procfs::wait_until_asleep(pid, Duration::from_secs(5));
            cpu_before = procfs::threads_cpu_ns(pid)?;
        }
        server::write_request_id(&mut answer[id_at..id_at + 36], index);
        let failed = |e: io::Error| format!("invocation {index}: {e}");
        // Earlier answers' timestamps: dropped, so the first one after the write is the event's.
        send_timestamps(&connections.open[on].0);
        let before = Instant::now();
        connections.open[on].0.write_all(&answer).map_err(failed)?;
        let returned = Instant::now();
        let (answered_on, post) = connections.next("waiting for the answer")?;
        let (read_at, read_at_realtime) = (Instant::now(), realtime());
        let sent = send_timestamps(&connections.open[on].0);
        if index > 0 {
            let Some(&written) = sent.first() else {
                return Err(format!(
                    "invocation {index}: no send timestamp for the event"
                ));
            };
            let ns = |d: Duration| d.as_nanos() as u64;
            sample
                .after_write_ns
                .push(ns(read_at_realtime.saturating_sub(written)));
            sample.write_returned_ns.push(ns(read_at - returned));
            sample.before_write_ns.push(ns(read_at - before));
        }
        let (stream, reader) = &mut connections.open[answered_on];
        let right = match &post.kind {
            Kind::Response(id) => {
                reader.buf[id.clone()] == server::request_id(index)
                    && expected.matches(&reader.buf[post.body.clone()])
            }
            _ => false,
        };
        sample.failures += u32::from(!right);
        reader.consume(post.used);
        stream.write_all(server::ACCEPTED).map_err(failed)?;
        let poll;
        (on, poll) = connections.next("waiting for the next poll")?;
        connections.open[on].1.consume(poll.used);
    }
    procfs::wait_until_asleep(pid, Duration::from_secs(5));
    let cpu_after = procfs::threads_cpu_ns(pid)?;
    sample.cpu_per_warm_ns = Some(cpu_after.saturating_sub(cpu_before) / u64::from(warm));
    sample.peak_rss_kib = Some(procfs::peak_rss_kib(pid)?);
    Ok(sample)
}

/// Medians of one bootstrap's starts.
struct Summary {
    init_us: f64,
    init_evicted_us: f64,
    faults: (f64, f64),
    faults_evicted: (f64, f64),
    after_write_us: [f64; 3],
    write_returned_us: f64,
    before_write_us: f64,
    cpu_us: f64,
    rss_kib: f64,
    failures: u32,
    left_out: usize,
}

fn summarize(samples: &[&Sample]) -> Summary {
    let (cached, out): (Vec<&&Sample>, Vec<&&Sample>) = samples.iter().partition(|s| !s.evicted);
    // A start whose binary stayed (partly) resident does not count as out of the cache.
    let (out, left): (Vec<&&Sample>, Vec<&&Sample>) =
        out.into_iter().partition(|s| s.resident_pages == 0);
    let us = |ns: u64| ns as f64 / 1000.0;
    let med =
        |of: &[&&Sample], f: &dyn Fn(&Sample) -> f64| median(of.iter().map(|s| f(s)).collect());
    let pooled = |f: &dyn Fn(&Sample) -> &Vec<u64>| {
        let mut all: Vec<u64> = cached.iter().flat_map(|s| f(s).iter().copied()).collect();
        all.sort_unstable();
        all
    };
    let after = pooled(&|s| &s.after_write_ns);
    let returned = pooled(&|s| &s.write_returned_ns);
    let before = pooled(&|s| &s.before_write_ns);
    let p = |sorted: &[u64], q| percentile(sorted, q).map_or(f64::NAN, us);
    Summary {
        init_us: med(&cached, &|s| us(s.init_ns)),
        init_evicted_us: med(&out, &|s| us(s.init_ns)),
        faults: (
            med(&cached, &|s| s.major_faults as f64),
            med(&cached, &|s| s.minor_faults as f64),
        ),
        faults_evicted: (
            med(&out, &|s| s.major_faults as f64),
            med(&out, &|s| s.minor_faults as f64),
        ),
        after_write_us: [p(&after, 0.5), p(&after, 0.9), p(&after, 0.99)],
        write_returned_us: p(&returned, 0.5),
        before_write_us: p(&before, 0.5),
        cpu_us: med(&cached, &|s| s.cpu_per_warm_ns.map_or(f64::NAN, us)),
        rss_kib: med(&cached, &|s| s.peak_rss_kib.map_or(f64::NAN, |k| k as f64)),
        failures: samples.iter().map(|s| s.failures).sum(),
        left_out: left.len(),
    }
}

fn markdown(bootstraps: &[Bootstrap], samples: &[Sample], options: &Options) -> String {
    let summaries: Vec<Summary> = (0..bootstraps.len())
        .map(|b| {
            summarize(
                &samples
                    .iter()
                    .filter(|s| s.bootstrap == b)
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# The Runtime API's view, one shared CPU\n\n{}; {} starts per bootstrap, {} warm \
         invocations each (echo, {PAYLOAD_BYTES} B event), and as many starts with the binary out \
         of the page cache (init only); {}; the API (one thread, blocking) and every bootstrap \
         on CPU {}.\n\n\
         Three windows over the same invocations, each ending when the API has read the POST's \
         last byte: **after write** (this method, the one judged): from the event's last byte \
         written, the kernel's send timestamp (`SO_TIMESTAMPING`, software, taken as loopback \
         hands the bytes to the runtime's socket); **write returned**: from the API's `write` \
         returning, which on a shared CPU may be after the woken runtime already ran, so it \
         depends on the scheduler's choice; **before write** (the cold-start benchmark's window, \
         `benches/results/coldstart.md`): from just before the event's `write`. Warm \
         percentiles pool every warm invocation of every start; the rest are \
         medians over the starts.\n",
        utc_now(),
        options.starts,
        options.warm,
        machine(),
        options.cpu
    );
    md.push_str(
        "| bootstrap | init p50, in page cache (µs) | init p50, out of page cache (µs) | init faults in cache (major / minor) | init faults out of cache (major / minor) | warm p50, after write (µs) | warm p90, after write | warm p99, after write | warm p50, write returned (µs) | warm p50, before write (µs) | CPU per warm invocation (µs) | peak RSS (KiB) | binary (bytes) | failures |\n\
         |---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n",
    );
    for (bootstrap, s) in bootstraps.iter().zip(&summaries) {
        let _ = writeln!(
            md,
            "| {} | {:.0} | {:.0} | {:.0} / {:.0} | {:.0} / {:.0} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.0} | {} | {} |",
            bootstrap.name,
            s.init_us,
            s.init_evicted_us,
            s.faults.0,
            s.faults.1,
            s.faults_evicted.0,
            s.faults_evicted.1,
            s.after_write_us[0],
            s.after_write_us[1],
            s.after_write_us[2],
            s.write_returned_us,
            s.before_write_us,
            s.cpu_us,
            s.rss_kib,
            bootstrap.binary("echo").bytes,
            s.failures
        );
    }
    let left_out: usize = summaries.iter().map(|s| s.left_out).sum();
    if left_out > 0 {
        let _ = writeln!(
            md,
            "\n{left_out} start(s) meant to run out of the page cache found their binary still \
             (partly) resident and are left out of the out-of-cache figures (CSV: `resident_pages`)."
        );
    }
    let [ours, floor] = &summaries[..] else {
        return md;
    };
    let targets: [(&str, f64, f64); 4] = [
        (
            "warm p50, after write ÷ floor",
            ours.after_write_us[0] / floor.after_write_us[0],
            1.5,
        ),
        (
            "CPU per warm invocation ÷ floor",
            ours.cpu_us / floor.cpu_us,
            1.3,
        ),
        (
            "init in page cache ÷ floor",
            ours.init_us / floor.init_us,
            1.15,
        ),
        (
            "init out of page cache ÷ floor",
            ours.init_evicted_us / floor.init_evicted_us,
            1.3,
        ),
    ];
    let _ = writeln!(
        md,
        "\nRatios of lambda-blocking-rt (medians of this run; issue 21's targets{}):\n\n\
         | ratio | value | target | met? |\n|---|--:|--:|---|",
        if options.quick {
            ", not judged on a quick run"
        } else {
            ""
        }
    );
    for (name, value, target) in targets {
        let verdict = match (options.quick, value <= target) {
            (true, _) => "-",
            (false, true) => "met",
            (false, false) => "missed",
        };
        let _ = writeln!(md, "| {name} | {value:.2} | ≤{target} | {verdict} |");
    }
    let _ = writeln!(
        md,
        "| warm p50, write returned ÷ floor | {:.2} | | |\n\
         | warm p50, before write ÷ floor | {:.2} | | |\n\
         | peak RSS ÷ floor | {:.2} | | |\n\n\
         Peak RSS against `lambda_runtime` is judged in the cold-start benchmark's report.",
        ours.write_returned_us / floor.write_returned_us,
        ours.before_write_us / floor.before_write_us,
        ours.rss_kib / floor.rss_kib
    );
    md
}

fn csv(bootstraps: &[Bootstrap], samples: &[Sample]) -> String {
    let mut csv = String::from(
        "bootstrap,start,out_of_page_cache,resident_pages,init_ns,major_faults,minor_faults,\
         warm_after_write_p50_ns,warm_write_returned_p50_ns,warm_before_write_p50_ns,cpu_per_warm_ns,peak_rss_kib,failures\n",
    );
    for s in samples {
        let p50 = |values: &Vec<u64>| {
            let mut sorted = values.clone();
            sorted.sort_unstable();
            percentile(&sorted, 0.5).map_or(String::new(), |v| v.to_string())
        };
        let opt = |v: Option<u64>| v.map_or(String::new(), |v| v.to_string());
        let _ = writeln!(
            csv,
            "{},{},{},{},{},{},{},{},{},{},{},{},{}",
            bootstraps[s.bootstrap].name,
            s.start,
            s.evicted,
            s.resident_pages,
            s.init_ns,
            s.major_faults,
            s.minor_faults,
            p50(&s.after_write_ns),
            p50(&s.write_returned_ns),
            p50(&s.before_write_ns),
            opt(s.cpu_per_warm_ns),
            opt(s.peak_rss_kib),
            s.failures
        );
    }
    csv
}
