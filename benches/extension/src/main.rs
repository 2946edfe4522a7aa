//! The extensions benchmark (issue 19). Starts, alternating, on a fake Lambda API it serves on
//! loopback:
//! - `invocation-summary` (extension/src/bin) and the same extension on the official
//!   `lambda-extension` crate (benches/official, `invocation-summary-official`): time from spawn
//!   to the first `GET /2020-01-01/extension/event/next` (after register and the telemetry
//!   subscription), its peak RSS then (`VmHWM`), and the binary sizes; that `/event/next` is then
//!   answered with SHUTDOWN, and each must exit 0;
//! - `hook-echo` (src/bin) with and without a shutdown hook: time from spawn to the first
//!   `/runtime/invocation/next` (init) and `VmHWM` then; then SIGTERM, on which each must exit 0.
//!
//! Not wait4's `ru_maxrss`: exec folds the spawning process's high-water mark into it, so every
//! child would show at least the harness's own RSS.
//!
//! Writes `README.md` (medians and ratios) and `raw.csv` (one row per start) to `--out`
//! (default benches/results/extension). Ratios side by side, medians; no timed assertion.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const USAGE: &str = "usage: cargo run --release -p extension-bench -- [--starts N] [--pin CPU] [--no-build] [--ours PATH] [--out DIR]
  --starts N   starts of each of the four cases, alternating (default 25)
  --pin CPU    run the harness and everything it starts on this CPU (sched_setaffinity)
  --no-build   measure the binaries already built (paths in the report)
  --ours PATH  this build of invocation-summary instead (e.g. a --tiny one); not built
  --out DIR    where README.md and raw.csv go (default benches/results/extension)";

const MUSL: &str = "x86_64-unknown-linux-musl";

/// One thing started and timed.
struct Case {
    name: &'static str,
    binary: PathBuf,
    env: Vec<(&'static str, String)>,
    /// Which request ends the measured span, and how the process is then ended.
    kind: Kind,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// Up to the first extension `/event/next`; answered with SHUTDOWN, the process exits itself.
    Extension,
    /// Up to the first `/runtime/invocation/next`; then SIGTERM.
    Runtime,
}

struct Sample {
    micros: u64,
    peak_rss_kib: u64,
    /// Of the resident set at that moment: the binary's pages (file-backed) and the rest.
    rss_file_kib: u64,
    rss_anon_kib: u64,
    exit: i32,
}

fn main() {
    if let Err(e) = run() {
        eprintln!("extension-bench: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let mut starts = 25usize;
    let mut pin = None;
    let mut build = true;
    let mut ours = None;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let root = root.canonicalize().map_err(|e| e.to_string())?;
    let mut out = root.join("benches/results/extension");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value\n{USAGE}"));
        match arg.as_str() {
            "--starts" => starts = value()?.parse().map_err(|_| "--starts: a number")?,
            "--pin" => pin = Some(value()?.parse::<usize>().map_err(|_| "--pin: a CPU")?),
            "--no-build" => build = false,
            "--ours" => ours = Some(PathBuf::from(value()?)),
            "--out" => out = PathBuf::from(value()?),
            "-h" | "--help" => return Err(USAGE.into()),
            _ => return Err(format!("unknown option {arg}\n{USAGE}")),
        }
    }
    if let Some(cpu) = pin {
        pin_to(cpu)?;
    }

    let given = ours.is_some();
    let ours = ours
        .unwrap_or_else(|| root.join("target/lambda/x86_64/invocation-summary/invocation-summary"));
    let hook_echo = root.join("target/lambda/x86_64/hook-echo/bootstrap");
    let official_dir = root.join("benches/official");
    let official = official_dir
        .join("target")
        .join(MUSL)
        .join("release/invocation-summary-official");
    if build {
        let build_sh = root.join("scripts/build.sh");
        let manifest = root.join("benches/extension/Cargo.toml");
        if !given {
            command(Command::new(&build_sh).args([
                "--extension",
                "--bin",
                "invocation-summary",
                "--arch",
                "x86_64",
            ]))?;
        }
        command(
            Command::new(&build_sh)
                .arg("--manifest-path")
                .arg(&manifest)
                .args(["--bin", "hook-echo", "--arch", "x86_64"]),
        )?;
        command(Command::new("cargo").current_dir(&official_dir).args([
            "build",
            "--release",
            "--locked",
            "--target",
            MUSL,
            "--no-default-features",
            "--features",
            "extension",
            "--bin",
            "invocation-summary-official",
        ]))?;
    }

    let server = FakeLambda::start()?;
    let api = server.address.clone();
    let port = |p: u16| p.to_string();
    let (ours_port, official_port) = (free_port()?, free_port()?);
    let cases = [
        Case {
            name: "invocation-summary",
            binary: ours.clone(),
            env: vec![(
                "INVOCATION_SUMMARY_LISTEN",
                format!("127.0.0.1:{ours_port}"),
            )],
            kind: Kind::Extension,
        },
        Case {
            name: "lambda-extension",
            binary: official.clone(),
            env: vec![("INVOCATION_SUMMARY_PORT", port(official_port))],
            kind: Kind::Extension,
        },
        Case {
            name: "echo without hook",
            binary: hook_echo.clone(),
            env: vec![],
            kind: Kind::Runtime,
        },
        Case {
            name: "echo with hook",
            binary: hook_echo.clone(),
            env: vec![("BENCH_SHUTDOWN_HOOK", "1".into())],
            kind: Kind::Runtime,
        },
    ];
    let mut samples: Vec<Vec<Sample>> = cases.iter().map(|_| Vec::new()).collect();
    for round in 0..starts {
        // Alternating, and each case first as often as the others.
        for i in 0..cases.len() {
            let c = (round + i) % cases.len();
            let sample = start(&cases[c], &api, &server)?;
            samples[c].push(sample);
        }
        eprint!("\rround {}/{starts}", round + 1);
    }
    eprintln!();
    for (case, s) in cases.iter().zip(&samples) {
        // A start that did not end as it should is a broken binary, not a slow one.
        let bad = s.iter().filter(|s| s.exit != 0).count();
        if bad > 0 {
            return Err(format!(
                "{}: {bad} starts did not exit 0 (on SHUTDOWN, or on SIGTERM)",
                case.name
            ));
        }
    }
    let sizes = [&ours, &official].map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0));
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    write(&out.join("raw.csv"), &csv(&cases, &samples))?;
    write(
        &out.join("README.md"),
        &report(&cases, &samples, sizes, starts, pin, given),
    )?;
    println!(
        "{}",
        std::fs::read_to_string(out.join("README.md")).unwrap_or_default()
    );
    Ok(())
}

/// Spawns `case`, times it to its request, reads its peak RSS while the request waits, then ends
/// it: SHUTDOWN for an extension, SIGTERM for a runtime.
fn start(case: &Case, api: &str, server: &FakeLambda) -> Result<Sample, String> {
    server
        .shutdown_on_next
        .store(case.kind == Kind::Extension, Ordering::SeqCst);
    while server.arrivals.try_recv().is_ok() {}
    let begin = Instant::now();
    let child = Command::new(&case.binary)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", api)
        .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
        .envs(case.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", case.binary.display()))?;
    let pid = child.id() as libc::pid_t;
    let wanted = match case.kind {
        Kind::Extension => Request::ExtensionNext,
        Kind::Runtime => Request::RuntimeNext,
    };
    let arrived = loop {
        match server.arrivals.recv_timeout(Duration::from_secs(10)) {
            Ok((request, at)) if request == wanted => break Some(at),
            Ok(_) => continue,
            Err(_) => break None,
        }
    };
    let memory = arrived.map(|_| memory_kib(pid, ["VmHWM", "RssFile", "RssAnon"]));
    match (case.kind, arrived) {
        (Kind::Extension, Some(_)) => server.release.send(()).map_err(|e| e.to_string())?,
        (Kind::Runtime, Some(_)) => signal(pid, libc::SIGTERM),
        (_, None) => signal(pid, libc::SIGKILL),
    }
    let status = reap(pid)?;
    let at = arrived.ok_or(format!("{}: no request within 10 s", case.name))?;
    Ok(Sample {
        micros: at.duration_since(begin).as_micros() as u64,
        peak_rss_kib: memory.as_ref().map_or(Ok(0), |m| m.clone().map(|m| m[0]))?,
        rss_file_kib: memory.as_ref().map_or(Ok(0), |m| m.clone().map(|m| m[1]))?,
        rss_anon_kib: memory.map_or(Ok(0), |m| m.map(|m| m[2]))?,
        exit: status,
    })
}

fn signal(pid: libc::pid_t, signal: libc::c_int) {
    // SAFETY: pid is our child, not yet reaped, so it cannot be another process.
    unsafe { libc::kill(pid, signal) };
}

/// Lines of /proc/PID/status in KiB: `VmHWM` is the peak resident set so far.
fn memory_kib<const N: usize>(pid: libc::pid_t, fields: [&str; N]) -> Result<[u64; N], String> {
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| e.to_string())?;
    let mut values = [0; N];
    for (value, field) in values.iter_mut().zip(fields) {
        *value = status
            .lines()
            .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|kib| kib.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or(format!("no {field} in /proc/{pid}/status"))?;
    }
    Ok(values)
}

/// waitpid: the exit code, 128 + the signal when killed.
fn reap(pid: libc::pid_t) -> Result<i32, String> {
    let mut status = 0;
    // SAFETY: plain syscall on our own child.
    if unsafe { libc::waitpid(pid, &mut status, 0) } != pid {
        return Err(format!(
            "waitpid({pid}): {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    })
}

fn pin_to(cpu: usize) -> Result<(), String> {
    // SAFETY: a zeroed cpu_set_t is an empty set; the calls only read and write it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(format!("--pin {cpu}: {}", std::io::Error::last_os_error()));
        }
    }
    Ok(())
}

fn command(command: &mut Command) -> Result<(), String> {
    eprintln!("building: {command:?}");
    match command.status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("{command:?} failed ({status})")),
        Err(e) => Err(format!("cannot run {command:?}: {e}")),
    }
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

// --- The fake Lambda API: Extensions, Telemetry and Runtime API, a thread per connection -----

#[derive(Clone, Copy, PartialEq, Debug)]
enum Request {
    ExtensionNext,
    RuntimeNext,
    Other,
}

struct FakeLambda {
    address: String,
    arrivals: Receiver<(Request, Instant)>,
    /// Extensions' `/event/next` answered with SHUTDOWN (external extension runs) or held (the
    /// runtime's internal extension, registered for no events).
    shutdown_on_next: Arc<AtomicBool>,
    /// One message lets a waiting `/event/next` have its SHUTDOWN: after the RSS is read.
    release: Sender<()>,
}

/// What the connection threads share.
struct Shared {
    arrivals: Mutex<Sender<(Request, Instant)>>,
    shutdown_on_next: Arc<AtomicBool>,
    release: Mutex<Receiver<()>>,
}

impl FakeLambda {
    fn start() -> Result<FakeLambda, String> {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        let address = listener
            .local_addr()
            .map_err(|e| e.to_string())?
            .to_string();
        let (sender, arrivals) = channel();
        let (release, released) = channel();
        let shutdown_on_next = Arc::new(AtomicBool::new(false));
        let shared = Arc::new(Shared {
            arrivals: Mutex::new(sender),
            shutdown_on_next: shutdown_on_next.clone(),
            release: Mutex::new(released),
        });
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = shared.clone();
                std::thread::spawn(move || serve(stream, &shared));
            }
        });
        Ok(FakeLambda {
            address,
            arrivals,
            shutdown_on_next,
            release,
        })
    }
}

/// Requests on one keep-alive connection until the client closes it.
fn serve(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_nodelay(true);
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let now = Instant::now();
        let mut length = 0usize;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            if header.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let path = line.split_whitespace().nth(1).unwrap_or("");
        let request = match path {
            "/2020-01-01/extension/event/next" => Request::ExtensionNext,
            "/2018-06-01/runtime/invocation/next" => Request::RuntimeNext,
            _ => Request::Other,
        };
        if let Ok(arrivals) = shared.arrivals.lock() {
            let _ = arrivals.send((request, now));
        }
        let answer = match (request, path) {
            (Request::ExtensionNext, _) if shared.shutdown_on_next.load(Ordering::SeqCst) => {
                if let Ok(release) = shared.release.lock() {
                    let _ = release.recv_timeout(Duration::from_secs(10));
                }
                let deadline = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_millis() + 2_000)
                    .unwrap_or(0);
                let event = format!(
                    r#"{{"eventType":"SHUTDOWN","shutdownReason":"spindown","deadlineMs":{deadline}}}"#
                );
                response("200 OK", "", &event)
            }
            // Held: the runtime's /next and its internal extension's poll wait for the end.
            (Request::ExtensionNext | Request::RuntimeNext, _) => {
                let _ = reader.read(&mut [0; 1]);
                return;
            }
            (_, "/2020-01-01/extension/register") => response(
                "200 OK",
                "Lambda-Extension-Identifier: 5f1c7a0e-bench\r\n",
                r#"{"functionName":"bench","functionVersion":"$LATEST","handler":"bench"}"#,
            ),
            (_, "/2022-07-01/telemetry") => response("200 OK", "", "OK"),
            _ => response("404 Not Found", "", r#"{"errorMessage":"not served here"}"#),
        };
        if writer.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}

fn response(status: &str, headers: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\n{headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

// --- The report -------------------------------------------------------------------------------

fn median(mut values: Vec<u64>) -> u64 {
    values.sort_unstable();
    match values.len() {
        0 => 0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2,
    }
}

/// Medians of time, peak RSS, file-backed RSS and anonymous RSS.
fn medians(samples: &[Sample]) -> [u64; 4] {
    let of = |f: fn(&Sample) -> u64| median(samples.iter().map(f).collect());
    [
        of(|s| s.micros),
        of(|s| s.peak_rss_kib),
        of(|s| s.rss_file_kib),
        of(|s| s.rss_anon_kib),
    ]
}

fn csv(cases: &[Case], samples: &[Vec<Sample>]) -> String {
    let mut out = String::from(
        "case,start,micros_to_first_next,peak_rss_kib,rss_file_kib,rss_anon_kib,exit\n",
    );
    for (case, samples) in cases.iter().zip(samples) {
        for (i, s) in samples.iter().enumerate() {
            let row = [s.micros, s.peak_rss_kib, s.rss_file_kib, s.rss_anon_kib];
            let row = row.map(|v| v.to_string()).join(",");
            out += &format!("{},{},{row},{}\n", case.name, i + 1, s.exit);
        }
    }
    out
}

fn report(
    cases: &[Case],
    samples: &[Vec<Sample>],
    sizes: [u64; 2],
    starts: usize,
    pin: Option<usize>,
    ours_given: bool,
) -> String {
    let m: Vec<[u64; 4]> = samples.iter().map(|s| medians(s)).collect();
    let ratio = |ours: u64, theirs: u64| ours as f64 / theirs.max(1) as f64;
    // One row: ours, theirs, the ratio, and the target met or missed.
    let row = |what: &str, ours: u64, theirs: u64, target: f64| {
        let r = ratio(ours, theirs);
        let verdict = if r <= target { "met" } else { "missed" };
        format!("| {what} | {ours} | {theirs} | {r:.2}× | ≤ {target}×: {verdict} |\n")
    };
    let pinned = match pin {
        Some(cpu) => format!("pinned to CPU {cpu} (`--pin {cpu}`)"),
        None => "unpinned".to_owned(),
    };
    let mut r = String::from(
        "# Extensions: invocation-summary against lambda-extension, and the shutdown hook's cost\n\n",
    );
    let ours = match ours_given {
        true => "ours the binary given with `--ours` (path below)",
        false => "ours as `scripts/build.sh` ships it (`cargo lambda-zip`)",
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    r += &format!(
        "`cargo run --release -p extension-bench -- {}` (benches/extension): {starts} starts of \
         each case, alternating, {pinned}, on a fake Lambda API on loopback. Medians; one row per \
         start in `raw.csv`. Static musl x86_64 release builds, stripped: {ours}, the reference \
         with benches/official's release profile (`lto`, `codegen-units = 1`, `strip`, \
         `opt-level = \"z\"`; tokio starts a worker thread per CPU the process may use).\n\n",
        args.join(" "),
    );
    r += "## An external extension: register, subscribe to platform telemetry, poll\n\n\
          Both register for INVOKE and SHUTDOWN, start their telemetry listener, subscribe to \
          `platform` telemetry and poll. Time: from spawn to the first \
          `GET /2020-01-01/extension/event/next` (an extension's init adds to the function's Init \
          Duration). Peak RSS: `VmHWM` (/proc/PID/status) read while that `/event/next` waits; the \
          fake then answers it with SHUTDOWN, and each exited 0.\n\n\
          | | invocation-summary | lambda-extension | ratio | target |\n| --- | ---: | ---: | ---: | --- |\n";
    r += &row("binary (bytes)", sizes[0], sizes[1], 0.5);
    r += &row("to first /event/next (µs)", m[0][0], m[1][0], 0.7);
    r += &row("peak RSS (KiB)", m[0][1], m[1][1], 0.5);
    r += &format!(
        "| of which, then: the binary's pages (RssFile, KiB) | {} | {} | {:.2}× | |\n\
         | of which, then: heap, stacks, data (RssAnon, KiB) | {} | {} | {:.2}× | |\n\n",
        m[0][2],
        m[1][2],
        ratio(m[0][2], m[1][2]),
        m[0][3],
        m[1][3],
        ratio(m[0][3], m[1][3]),
    );
    r += "## What the shutdown hook's internal extension costs a function\n\n\
          `hook-echo` (benches/extension/src/bin, built by `scripts/build.sh --manifest-path`), the same binary \
          started without and with `BENCH_SHUTDOWN_HOOK` (which sets `on_shutdown`): with the \
          hook the runtime registers an internal extension and starts its polling thread before \
          its first `/next`. Init: spawn to the first `/runtime/invocation/next`; peak RSS: \
          `VmHWM` then; then SIGTERM.\n\n\
          | | without hook | with hook | difference |\n| --- | ---: | ---: | ---: |\n";
    for (what, i) in [("init (µs)", 0), ("peak RSS (KiB)", 1)] {
        let (without, with) = (m[2][i], m[3][i]);
        r += &format!(
            "| {what} | {without} | {with} | {:+} |\n",
            with as i64 - without as i64
        );
    }
    r += "\nBinaries:\n\n";
    for case in cases.iter().filter(|c| c.name != "echo with hook") {
        r += &format!("- {}: `{}`\n", case.name, display(&case.binary));
    }
    r
}

/// A path as the report shows it: inside the repository, relative to it.
fn display(path: &Path) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let root = root.canonicalize().unwrap_or(root);
    path.strip_prefix(&root)
        .unwrap_or(path)
        .display()
        .to_string()
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
