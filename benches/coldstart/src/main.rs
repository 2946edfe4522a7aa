//! Cold-start and warm-invoke benchmark of the bootstrap against the official `lambda_runtime`
//! and a raw-socket floor, on the harness's own Runtime API on loopback; with the subcommand
//! `concurrency`, the Lambda Managed Instances benchmark (throughput, CPU and memory with N
//! invocations at once; see `concurrency.rs`).
//!
//! `cargo run --release -p coldstart -- --help` (or `-- concurrency --help`) lists the options;
//! `benches/README.md` says what is measured and how.

mod api_view;
mod bootstraps;
mod concurrency;
mod pagecache;
mod procfs;
mod report;
mod server;
mod web;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use bench_support::build::workspace_root;
use bench_support::cli::{self, Args};
use bench_support::lambda_env;
use bench_support::process::pin_to_cpu;
use bench_support::runtime_api::Server;

use bootstraps::{Binary, Sources};
use pagecache::Residency;
use server::{Expected, Session};

const USAGE: &str = "\
usage: cargo run --release -p coldstart -- [options]
       cargo run --release -p coldstart -- concurrency [options]   (its own --help)
       cargo run --release -p coldstart -- api-view [options]      (its own --help)

  --starts K        cold starts per bootstrap, handler and payload (default 50)
  --warm N          warm invocations after the first, per start (default 10000)
  --quick           K=3, N=200, results in target/coldstart-quick/ (for CI); the figures and
                    ratios only, not judged against the targets (too few starts for that)
  --out DIR         where the table, CSV and chart go (default benches/results/)
  --cold-file       also start each bootstrap with its binary out of the page cache
                    (posix_fadvise DONTNEED, checked with mincore), once per round, for init
                    and page faults read from disk; next to the usual start with it cached
  --ours PATH       use this lambda-blocking-rt binary, for every handler (by _HANDLER),
                    instead of the shipped per-function ones
  --official PATH   use this lambda_runtime bootstrap instead of building it
  --floor PATH      use this floor binary instead of building it
  --no-build        use the binaries at their default paths without running cargo
  --pin CPU         run the harness and every bootstrap on this one CPU (sched_setaffinity):
                    round trips then show CPU work rather than cross-CPU wake-up latency
  --verbose         let the bootstraps' stdout and stderr through

Without --ours/--official/--floor/--no-build the harness builds all three itself:
  scripts/build.sh --arch x86_64 --function echo --function fibonacci
      (ours as shipped: target/lambda/x86_64/{echo,fibonacci}/bootstrap, one per case's handler)
  cargo build --release --target x86_64-unknown-linux-musl -p floor
  cargo build --release --target x86_64-unknown-linux-musl --locked \\
      --manifest-path benches/official/Cargo.toml --no-default-features \\
      --features coldstart --bin bootstrap";

pub struct Options {
    starts: u32,
    warm: u32,
    out: PathBuf,
    sources: Sources,
    pin: Option<usize>,
    /// `--cold-file`: a second start per round with the binary out of the page cache.
    cold_file: bool,
    verbose: bool,
    /// `--quick`: figures without judging them against the targets.
    quick: bool,
}

impl Options {
    /// `starts` × `warm`, reports to `out`; every binary built, not pinned, judged.
    fn new(starts: u32, warm: u32, out: PathBuf) -> Options {
        Options {
            starts,
            warm,
            out,
            sources: Sources::default(),
            pin: None,
            cold_file: false,
            verbose: false,
            quick: false,
        }
    }
}

fn parse_options() -> Result<Options, String> {
    let root = workspace_root();
    let mut options = Options::new(50, 10_000, root.join("benches/results"));
    let mut out_given = false;
    let mut args = Args::new(std::env::args().skip(1), USAGE);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--starts" => options.starts = args.count(&arg)?.max(1),
            "--warm" => options.warm = args.count(&arg)?,
            "--quick" => {
                options.quick = true;
                options.starts = 3;
                options.warm = 200;
                if !out_given {
                    options.out = root.join("target/coldstart-quick");
                }
            }
            "--out" => {
                options.out = PathBuf::from(args.value(&arg)?);
                out_given = true;
            }
            "--ours" => options.sources.ours = Some(args.value(&arg)?.into()),
            "--official" => options.sources.official = Some(args.value(&arg)?.into()),
            "--floor" => options.sources.floor = Some(args.value(&arg)?.into()),
            "--no-build" => options.sources.no_build = true,
            "--pin" => options.pin = Some(args.cpu(&arg)?),
            "--cold-file" => options.cold_file = true,
            "--verbose" => options.verbose = true,
            other => return Err(args.not_an_option(other)),
        }
    }
    Ok(options)
}

/// A handler and the event it gets.
#[derive(Clone)]
pub struct Case {
    pub handler: &'static str,
    /// Short label for tables: the payload's size or shape.
    pub payload_label: String,
    pub payload: Vec<u8>,
    pub expected: Expected,
}

fn cases() -> Vec<Case> {
    let mut cases: Vec<Case> = [(64, "64 B"), (64 * 1024, "64 KiB"), (1024 * 1024, "1 MiB")]
        .into_iter()
        .map(|(size, label)| {
            let payload = echo_payload(size);
            Case {
                handler: "echo",
                payload_label: label.to_owned(),
                expected: Expected::Bytes(payload.clone()),
                payload,
            }
        })
        .collect();
    cases.push(Case {
        handler: "fibonacci",
        payload_label: r#"{"n":35}"#.to_owned(),
        payload: br#"{"n":35}"#.to_vec(),
        expected: Expected::Json(serde_json::json!({"n": 35, "result": 9_227_465})),
    });
    cases
}

/// A JSON object of exactly `size` bytes, `{"data":"abc…"}`, that every runtime can parse.
pub fn echo_payload(size: usize) -> Vec<u8> {
    let mut payload = b"{\"data\":\"".to_vec();
    let filler = size.saturating_sub(payload.len() + 2);
    payload.extend((0..filler).map(|i| b'a' + (i % 26) as u8));
    payload.extend_from_slice(b"\"}");
    payload
}

/// Where a start's binary was before it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PageCache {
    /// Read whole just before: every page cached, as after a previous start.
    In,
    /// Evicted just before (`--cold-file`): read from disk as it runs.
    Out,
}

/// What one cold start measured.
pub struct Sample {
    pub bootstrap: usize,
    pub case: usize,
    pub start: u32,
    /// Whether the binary was put in the page cache before the start (read whole) or out of it.
    pub page_cache: PageCache,
    /// Its pages in the page cache just before the start, checked with `mincore`.
    pub residency: Residency,
    /// Spawn → first `GET /next` arrived.
    pub init: Duration,
    /// `majflt` and `minflt` of /proc/PID/stat while the first `GET /next` waits: init's page
    /// faults, those that read from disk and those that did not.
    pub init_major_faults: u64,
    pub init_minor_faults: u64,
    /// First event handed out → its response read.
    pub first_invoke: Duration,
    /// The warm invocations' round trips, sorted, in nanoseconds.
    pub warm_ns: Vec<u64>,
    /// On-CPU time of all the process's threads over the warm run, per warm invocation, in
    /// nanoseconds (/proc/PID/task/*/schedstat); `None` without warm invocations.
    pub cpu_per_warm_ns: Option<f64>,
    /// The same from the process's CPU clock, which also counts threads that ended: a check.
    pub cpu_clock_per_warm_ns: Option<f64>,
    /// VmHWM just before the kill.
    pub peak_rss_kib: u64,
    /// Minor page faults over the process's life (`minflt` of /proc/PID/stat), just before the
    /// kill: with `--warm 0`, mostly those of init.
    pub minor_faults: u64,
    /// Wrong responses and error posts.
    pub failures: u32,
}

fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("concurrency") {
        return concurrency::main(std::env::args().skip(2));
    }
    if std::env::args().nth(1).as_deref() == Some("api-view") {
        return api_view::main(std::env::args().skip(2));
    }
    if std::env::args().nth(1).as_deref() == Some("web") {
        return web::main(std::env::args().skip(2));
    }
    cli::exit(parse_options(), run, "see the failures column of the CSV")
}

/// Runs the benchmark and writes the reports; returns how many invocations failed.
fn run(options: &Options) -> Result<u32, String> {
    let cases = cases();
    let mut handlers: Vec<&'static str> = cases.iter().map(|c| c.handler).collect();
    handlers.dedup();
    let bootstraps = bootstraps::prepare(&options.sources, &handlers)?;
    if let Some(cpu) = options.pin {
        pin_to_cpu(cpu)?;
    }
    let server = Server::start().map_err(|e| format!("cannot start the Runtime API: {e}"))?;

    let modes: &[PageCache] = if options.cold_file {
        &[PageCache::In, PageCache::Out]
    } else {
        &[PageCache::In]
    };
    let total = (cases.len() * bootstraps.len() * modes.len()) as u64 * u64::from(options.starts);
    let progress = cli::progress_bar(total)?;
    let mut samples = Vec::with_capacity(total as usize);
    let mut first_failure = None;
    for (case_index, case) in cases.iter().enumerate() {
        // A B C A B C …: each round runs every bootstrap once (with --cold-file: A A' B B' C C',
        // the second out of the page cache), so drift hits them alike.
        for start in 0..options.starts {
            for (bootstrap_index, bootstrap) in bootstraps.iter().enumerate() {
                let binary = bootstrap.binary(case.handler);
                for &page_cache in modes {
                    progress.set_message(format!(
                        "{} {} {} #{start}{}",
                        case.handler,
                        case.payload_label,
                        bootstrap.name,
                        if page_cache == PageCache::Out {
                            " cold file"
                        } else {
                            ""
                        }
                    ));
                    let (sample, failure) = cold_start(&server, binary, page_cache, case, options)
                        .map_err(|e| format!("{} {}: {e}", bootstrap.name, case.handler))?;
                    if let Some(failure) = failure {
                        first_failure.get_or_insert(format!("{}: {failure}", bootstrap.name));
                    }
                    if sample.residency.resident > 0 && page_cache == PageCache::Out {
                        progress.println(format!(
                            "{} stayed in the page cache ({} of {} pages): this start is left \
                             out of the out-of-cache figures",
                            binary.path.display(),
                            sample.residency.resident,
                            sample.residency.pages
                        ));
                    }
                    samples.push(Sample {
                        bootstrap: bootstrap_index,
                        case: case_index,
                        start,
                        ..sample
                    });
                    progress.inc(1);
                }
            }
        }
    }
    cli::finish(&progress, first_failure.as_deref());

    let run = report::Run {
        bootstraps: &bootstraps,
        cases: &cases,
        samples: &samples,
        starts: options.starts,
        warm: options.warm,
        pin: options.pin,
        cold_file: options.cold_file,
        judge_targets: !options.quick,
    };
    let written = report::write_all(&run, &options.out).map_err(|e| e.to_string())?;
    bench_support::report::print(&report::markdown_tables(&run), &written);
    Ok(samples.iter().map(|s| s.failures).sum())
}

/// Starts `binary` once, with it in the page cache or out of it, serves it `1 + warm`
/// invocations of `case` (only the first when out of the cache: that start is for init), then
/// kills it.
pub fn cold_start(
    server: &Server,
    binary: &Binary,
    page_cache: PageCache,
    case: &Case,
    options: &Options,
) -> Result<(Sample, Option<String>), String> {
    let warm = match page_cache {
        PageCache::In => options.warm,
        PageCache::Out => 0,
    };
    let session = Session::new(warm + 1, &case.payload, case.expected.clone());
    server.begin(session.clone());
    let mut command =
        lambda_env::command(&binary.path, server.addr(), case.handler, options.verbose);
    let residency = match page_cache {
        PageCache::In => pagecache::load(&binary.path)?,
        PageCache::Out => pagecache::evict(&binary.path)?,
    };

    let (mut child, spawned, deadline) = spawn(&mut command, binary, warm)?;
    let pid = child.id();
    // Waits until `ready` (given 100 ms at a time), unless the process ends or hangs.
    let mut wait_for = |ready: &dyn Fn(Duration) -> bool| loop {
        if ready(Duration::from_millis(100)) {
            return Ok(());
        }
        match child.try_wait() {
            Ok(Some(status)) => return Err(format!("the process exited early ({status})")),
            Ok(None) if Instant::now() > deadline => return Err("timed out".to_owned()),
            Ok(None) => {}
            Err(e) => return Err(format!("cannot wait for the process: {e}")),
        }
    };
    // Read while the process waits in a poll and all its threads sleep: the first (held; init's
    // page faults), the second (held; CPU time before the warm run) and the one after the last
    // event (CPU time after it). Both CPU readings are at the same point of an invocation's
    // cycle, so what lies between is exactly the warm invocations.
    let asleep = || procfs::wait_until_asleep(pid, Duration::from_millis(20));
    let cpu = || -> Result<(u64, Duration), String> {
        asleep();
        Ok((procfs::threads_cpu_ns(pid)?, procfs::cpu_time(pid)?))
    };
    let mut measured = || -> Result<_, String> {
        wait_for(&|t| session.wait_for_poll(0, t))?;
        asleep();
        let faults = (procfs::major_faults(pid)?, procfs::minor_faults(pid)?);
        session.let_through();
        let warm_start = if warm > 0 {
            wait_for(&|t| session.wait_for_poll(1, t))?;
            let reading = cpu()?;
            session.let_through();
            Some(reading)
        } else {
            None
        };
        wait_for(&|t| session.wait_done(t))?;
        let warm_end = match warm_start {
            Some(_) => Some(cpu()?),
            None => None,
        };
        let peak_rss_kib =
            procfs::peak_rss_kib(pid).map_err(|e| format!("cannot read VmHWM: {e}"))?;
        let minor_faults =
            procfs::minor_faults(pid).map_err(|e| format!("cannot read minflt: {e}"))?;
        Ok((faults, warm_start.zip(warm_end), peak_rss_kib, minor_faults))
    };
    let outcome = measured();
    session.close();
    let _ = child.kill();
    let _ = child.wait();
    server.settle(Duration::from_secs(1));
    let progress = session.take_progress();
    let ((init_major_faults, init_minor_faults), cpu, peak_rss_kib, minor_faults) = outcome
        .map_err(|e| match &progress.first_failure {
            Some(failure) => format!("{e}; {failure}"),
            None => e,
        })?;

    let (Some(first_next), Some(first_invoke)) = (progress.first_next, progress.first_round_trip)
    else {
        return Err("done without a first invocation".to_owned());
    };
    let per_warm = |total: f64| total / f64::from(warm);
    let mut warm_ns = progress.warm_ns;
    warm_ns.sort_unstable();
    let sample = Sample {
        bootstrap: 0,
        case: 0,
        start: 0,
        page_cache,
        residency,
        init: first_next - spawned,
        init_major_faults,
        init_minor_faults,
        first_invoke,
        warm_ns,
        cpu_per_warm_ns: cpu
            .map(|((before, _), (after, _))| per_warm(after.saturating_sub(before) as f64)),
        cpu_clock_per_warm_ns: cpu.map(|((_, before), (_, after))| {
            per_warm(after.saturating_sub(before).as_nanos() as f64)
        }),
        peak_rss_kib,
        minor_faults,
        failures: progress.failures,
    };
    Ok((sample, progress.first_failure))
}

/// Starts `binary` (`command`), with when it started and the deadline for a start that serves
/// `warm` invocations after the first: generous, a slow machine may take a few ms per 1 MiB
/// round trip.
pub fn spawn(
    command: &mut std::process::Command,
    binary: &Binary,
    warm: u32,
) -> Result<(std::process::Child, Instant, Instant), String> {
    let spawned = Instant::now();
    let child = command
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.path.display()))?;
    let deadline = spawned + Duration::from_secs(30) + Duration::from_millis(20) * warm;
    Ok((child, spawned, deadline))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_payloads_are_json_of_the_exact_size() {
        for size in [64, 64 * 1024, 1024 * 1024] {
            let payload = echo_payload(size);
            assert_eq!(payload.len(), size);
            assert!(serde_json::from_slice::<serde_json::Value>(&payload).is_ok());
        }
    }
}
