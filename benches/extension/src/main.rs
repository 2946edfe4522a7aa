//! The extensions benchmark (issue 19). Starts, alternating, on the fake Lambda API of
//! `bench_support::runtime_api` (Runtime, Extensions and Telemetry API) on loopback:
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

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitCode};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bench_support::build::{self, Linker, workspace_root};
use bench_support::cli::{self, Args};
use bench_support::runtime_api::{Events, Server, next_answer, shutdown_event};
use bench_support::{lambda_env, lock, process, report, stats};

const USAGE: &str = "usage: cargo run --release -p extension-bench -- [--starts N] [--pin CPU] [--no-build] [--ours PATH] [--out DIR] [--quick]
  --starts N   starts of each of the four cases, alternating (default 25)
  --pin CPU    run the harness and everything it starts on this CPU (sched_setaffinity)
  --no-build   measure the binaries already built (paths in the report)
  --ours PATH  this build of invocation-summary instead (e.g. a --tiny one); not built
  --out DIR    where README.md and raw.csv go (default benches/results/extension)
  --quick      3 starts of each case, results in target/extension-quick/ (for CI): every start
               still checked (its requests, its exit status)

Unless --no-build, it builds what it measures first:
  scripts/build.sh --extension --arch x86_64 --bin invocation-summary   (unless --ours)
  scripts/build.sh --manifest-path benches/extension/Cargo.toml --arch x86_64 --bin hook-echo
  cargo build --release --target x86_64-unknown-linux-musl --locked \\
      --manifest-path benches/official/Cargo.toml --no-default-features \\
      --features extension --bin invocation-summary-official";

/// How long a start may take to reach its request.
const TIMEOUT: Duration = Duration::from_secs(10);

struct Options {
    starts: u32,
    pin: Option<usize>,
    build: bool,
    /// `--ours`: this invocation-summary, not built.
    ours: Option<PathBuf>,
    out: PathBuf,
}

fn parse_options() -> Result<Options, String> {
    let root = workspace_root();
    let mut options = Options {
        starts: 25,
        pin: None,
        build: true,
        ours: None,
        out: root.join("benches/results/extension"),
    };
    let mut out_given = false;
    let mut args = Args::new(std::env::args().skip(1), USAGE);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--starts" => options.starts = args.count_above_0(&arg)?,
            "--pin" => options.pin = Some(args.cpu(&arg)?),
            "--no-build" => options.build = false,
            "--ours" => options.ours = Some(args.value(&arg)?.into()),
            "--out" => {
                options.out = args.value(&arg)?.into();
                out_given = true;
            }
            "--quick" => {
                options.starts = 3;
                if !out_given {
                    options.out = root.join("target/extension-quick");
                }
            }
            other => return Err(args.not_an_option(other)),
        }
    }
    Ok(options)
}

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

fn main() -> ExitCode {
    cli::exit(
        parse_options(),
        run,
        "every start must reach its request and exit 0",
    )
}

/// Builds, measures and writes the report; a start that fails ends the run with an error.
fn run(options: &Options) -> Result<u32, String> {
    let root = workspace_root();
    let ours = options
        .ours
        .clone()
        .unwrap_or_else(|| build::shipped_extension(&root, "invocation-summary"));
    let hook_echo = build::shipped(&root, "hook-echo");
    let official = build::official(&root, "invocation-summary-official", Linker::Default);
    if options.build {
        if options.ours.is_none() {
            build::build_shipped_extensions(&root, &["invocation-summary"])?;
        }
        let manifest = root.join("benches/extension/Cargo.toml");
        build::build_like_shipped(&root, &manifest, &["hook-echo"])?;
        build::build_official(
            &root,
            "extension",
            &["invocation-summary-official"],
            Linker::Default,
        )?;
    }
    if let Some(cpu) = options.pin {
        process::pin_to_cpu(cpu)?;
    }
    let server = Server::start().map_err(|e| format!("cannot start the fake Lambda API: {e}"))?;

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
            env: vec![("INVOCATION_SUMMARY_PORT", official_port.to_string())],
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
    let starts = options.starts as usize;
    let progress = cli::progress_bar((starts * cases.len()) as u64)?;
    let mut samples: Vec<Vec<Sample>> = cases.iter().map(|_| Vec::new()).collect();
    for round in 0..starts {
        // Alternating, and each case first as often as the others.
        for i in 0..cases.len() {
            let c = (round + i) % cases.len();
            progress.set_message(cases[c].name);
            samples[c].push(start(&cases[c], &server)?);
            progress.inc(1);
        }
    }
    cli::finish(&progress, None);
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
    let readme = markdown(&cases, &samples, sizes, options);
    let written = report::write(
        &options.out,
        &[("raw.csv", &csv(&cases, &samples)), ("README.md", &readme)],
    )
    .map_err(|e| format!("cannot write the report: {e}"))?;
    report::print(&readme, &written);
    Ok(0)
}

/// Spawns `case`, times it to its request, reads its peak RSS while the request waits, then ends
/// it: SHUTDOWN for an extension, SIGTERM for a runtime.
fn start(case: &Case, server: &Server) -> Result<Sample, String> {
    let (arrivals, arrived) = channel();
    let (release, released) = channel();
    let events = Arc::new(Start {
        kind: case.kind,
        next_answer: next_answer(b"{}"),
        arrivals,
        released: Mutex::new(released),
        unexpected: Mutex::new(None),
    });
    server.begin(events.clone());
    let begin = Instant::now();
    let mut child = lambda_env::command(&case.binary, server.addr(), "bench", false)
        .envs(case.env.iter().map(|(k, v)| (k, v)))
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", case.binary.display()))?;
    let arrived = arrived.recv_timeout(TIMEOUT).ok();
    let memory = arrived.map(|_| memory_kib(child.id()));
    match (case.kind, arrived) {
        (Kind::Extension, Some(_)) => release.send(()).map_err(|e| e.to_string())?,
        (Kind::Runtime, Some(_)) => signal(&child, libc::SIGTERM),
        (_, None) => signal(&child, libc::SIGKILL),
    }
    let exit = reap(&mut child)?;
    server.settle(Duration::from_secs(1));
    if let Some(unexpected) = lock(&events.unexpected).take() {
        return Err(format!("{}: {unexpected}", case.name));
    }
    let at = arrived.ok_or(format!("{}: no request within {TIMEOUT:?}", case.name))?;
    let [peak_rss_kib, rss_file_kib, rss_anon_kib] = memory.unwrap_or(Ok([0; 3]))?;
    Ok(Sample {
        micros: at.duration_since(begin).as_micros() as u64,
        peak_rss_kib,
        rss_file_kib,
        rss_anon_kib,
        exit,
    })
}

/// `VmHWM` (the peak resident set so far), `RssFile` and `RssAnon`, in KiB.
fn memory_kib(pid: u32) -> Result<[u64; 3], String> {
    let [hwm, file, anon] = ["VmHWM", "RssFile", "RssAnon"].map(|f| process::status_kib(pid, f));
    Ok([hwm?, file?, anon?])
}

/// What the fake Lambda API serves one start.
struct Start {
    kind: Kind,
    /// Never handed out: the runtime's `/next` is held.
    next_answer: (Vec<u8>, usize),
    /// When the request that ends the measured span arrived.
    arrivals: Sender<Instant>,
    /// One message lets the waiting `/event/next` have its SHUTDOWN: after the RSS is read.
    released: Mutex<Receiver<()>>,
    /// A request the case should not make.
    unexpected: Mutex<Option<String>>,
}

impl Start {
    fn unexpected(&self, what: String) {
        lock(&self.unexpected).get_or_insert(what);
    }
}

impl Events for Start {
    fn next_answer(&self) -> (&[u8], usize) {
        (&self.next_answer.0, self.next_answer.1)
    }

    /// Held: the runtime's `/next` waits for the SIGTERM.
    fn next(&self, arrived: Instant) -> Option<u32> {
        match self.kind {
            Kind::Runtime => drop(self.arrivals.send(arrived)),
            Kind::Extension => self.unexpected("an extension polled the Runtime API".into()),
        }
        None
    }

    fn answered(&self, _id: &[u8], _body: &[u8], _is_error: bool, _arrived: Instant) {
        self.unexpected("answered an invocation never handed out".into());
    }

    fn init_error(&self, body: &[u8]) {
        self.unexpected(format!(
            "init error: {}",
            String::from_utf8_lossy(body).trim()
        ));
    }

    /// An external extension's poll is answered with SHUTDOWN once released; the runtime's
    /// internal extension (registered for no events) is held.
    fn extension_next(&self, arrived: Instant) -> Option<Vec<u8>> {
        if self.kind == Kind::Runtime {
            return None;
        }
        let _ = self.arrivals.send(arrived);
        let _ = lock(&self.released).recv_timeout(TIMEOUT);
        Some(shutdown_event())
    }
}

fn signal(child: &Child, signal: libc::c_int) {
    // SAFETY: the child is not yet reaped, so its pid cannot be another process's.
    unsafe { libc::kill(child.id() as libc::pid_t, signal) };
}

/// Waits for the child: its exit code, 128 + the signal when killed.
fn reap(child: &mut Child) -> Result<i32, String> {
    use std::os::unix::process::ExitStatusExt;
    let status = child.wait().map_err(|e| format!("wait: {e}"))?;
    Ok(status
        .code()
        .or(status.signal().map(|s| 128 + s))
        .unwrap_or(-1))
}

/// A port free now, for an extension's telemetry listener.
fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

// --- The report -------------------------------------------------------------------------------

/// Medians of time, peak RSS, file-backed RSS and anonymous RSS.
fn medians(samples: &[Sample]) -> [u64; 4] {
    let of = |f: fn(&Sample) -> u64| stats::median(samples.iter().map(|s| f(s) as f64).collect());
    [
        of(|s| s.micros),
        of(|s| s.peak_rss_kib),
        of(|s| s.rss_file_kib),
        of(|s| s.rss_anon_kib),
    ]
    // Nearest rank: each median is one of the samples, a whole number (0 when there are none).
    .map(|m| if m.is_nan() { 0 } else { m as u64 })
}

fn csv(cases: &[Case], samples: &[Vec<Sample>]) -> String {
    let mut out = String::from(
        "case,start,micros_to_first_next,peak_rss_kib,rss_file_kib,rss_anon_kib,exit\n",
    );
    for (case, samples) in cases.iter().zip(samples) {
        for (i, s) in samples.iter().enumerate() {
            let row = [s.micros, s.peak_rss_kib, s.rss_file_kib, s.rss_anon_kib];
            let row = row.map(|v| v.to_string()).join(",");
            let name = report::csv_field(case.name);
            out += &format!("{name},{},{row},{}\n", i + 1, s.exit);
        }
    }
    out
}

fn markdown(cases: &[Case], samples: &[Vec<Sample>], sizes: [u64; 2], options: &Options) -> String {
    let m: Vec<[u64; 4]> = samples.iter().map(|s| medians(s)).collect();
    let ratio = |ours: u64, theirs: u64| ours as f64 / theirs.max(1) as f64;
    // One row: ours, theirs, the ratio, and the target met or missed.
    let row = |what: &str, ours: u64, theirs: u64, target: f64| {
        let r = ratio(ours, theirs);
        let verdict = if r <= target { "met" } else { "missed" };
        format!("| {what} | {ours} | {theirs} | {r:.2}× | ≤ {target}×: {verdict} |\n")
    };
    let pinned = match options.pin {
        Some(cpu) => format!("pinned to CPU {cpu} (`--pin {cpu}`)"),
        None => "unpinned".to_owned(),
    };
    let mut r = String::from(
        "# Extensions: invocation-summary against lambda-extension, and the shutdown hook's cost\n\n",
    );
    let ours = match options.ours {
        Some(_) => "ours the binary given with `--ours` (path below)",
        None => "ours as `scripts/build.sh --extension` ships it (`cargo lambda-zip`)",
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    r += &format!(
        "`cargo run --release -p extension-bench -- {}` (benches/extension), {} UTC; {}: {} \
         starts of each case, alternating, {pinned}, on a fake Lambda API on loopback \
         (`bench_support::runtime_api`), each started with the environment Lambda sets \
         (`bench_support::lambda_env`). Medians; one row per start in `raw.csv`. Static musl \
         x86_64 release builds, stripped: {ours}, the reference with benches/official's release \
         profile (`lto`, `codegen-units = 1`, `strip`, `opt-level = \"z\"`) and its feature \
         `extension` alone (`--no-default-features --features extension`; tokio starts a worker \
         thread per CPU the process may use).\n\n",
        args.join(" "),
        report::utc_now(),
        report::machine(),
        options.starts,
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
    let root = workspace_root();
    path.strip_prefix(&root)
        .unwrap_or(path)
        .display()
        .to_string()
}
