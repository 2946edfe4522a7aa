//! The Lambda Managed Instances benchmark: with `AWS_LAMBDA_MAX_CONCURRENCY` = N, how many
//! invocations a second one process serves, the CPU time each one costs it, and its peak resident
//! memory; lambda-blocking-rt (N worker threads, each its own connection) against the official
//! runtime's `run_concurrent` (N tokio tasks), side by side in one run.
//!
//! Each measurement is a fresh process: started, given time until all N workers poll `/next`,
//! warmed up with 4 invocations per worker, then given a batch of K events all at once, so every
//! worker always finds one waiting until the batch runs out. Throughput is K over the time from
//! the batch's release to its last answer; CPU is the process's CPU clock (all threads) read
//! before and after the batch, while every worker is idle in its poll. `benches/README.md` has
//! the method in full.

mod report;

use std::path::PathBuf;
use std::process::{Child, ExitCode};
use std::time::{Duration, Instant};

use bench_support::build::workspace_root;
use bench_support::cli::{self, Args};
use bench_support::lambda_env;
use bench_support::runtime_api::Server;

use crate::bootstraps::{self, ConcurrencyBinaries, OFFICIAL, OURS};
use crate::procfs;
use crate::server::{Batch, Expected};

const USAGE: &str = "\
usage: cargo run --release -p coldstart -- concurrency [options]

  --rounds R        measurements per runtime, handler and N, interleaved (default 15)
  --echo K          echo invocations measured per process (default 20000)
  --sleep-waves W   sleep invocations measured per process: W per worker (default 20)
  --quick           R=1, K=1000, W=4; figures without goal marks, results in
                    target/concurrency-quick/ (for CI)
  --out DIR         where the table, CSV and chart go (default benches/results/concurrency/)
  --ours PATH       use this lambda-blocking-rt binary for every handler (it must pick the
                    handler by _HANDLER, as the all-handlers bootstrap does) instead of building
                    the one-function binaries
  --official PATH   use this build of benches/official's `concurrent` instead of building it
  --no-build        use the binaries at their default paths without running cargo
  --verbose         let the bootstraps' stdout and stderr through

Without --ours/--official/--no-build the harness builds them itself:
  cargo build --release --target x86_64-unknown-linux-musl -p bootstrap --bin echo --bin sleep
  cargo build --release --target x86_64-unknown-linux-musl --locked \\
      --manifest-path benches/official/Cargo.toml --no-default-features \\
      --features coldstart --bin concurrent";

/// The values of `AWS_LAMBDA_MAX_CONCURRENCY` measured.
const WORKERS: [u32; 3] = [1, 8, 64];
/// What each `sleep` invocation asks for: long enough that N = 64 sleeping at once shows
/// whether they really run at the same time (the ceiling is N ÷ 50 ms).
const SLEEP_MS: u64 = 50;
/// Invocations per worker before the measured batch, not counted.
const WARMUP_PER_WORKER: u32 = 4;
/// The handlers measured; each one's binary is named for it.
const HANDLERS: [&str; 2] = ["echo", "sleep"];

struct Options {
    rounds: u32,
    echo_invocations: u32,
    sleep_waves: u32,
    /// Figures only: no goal marks (a CI run is too short to judge a goal by).
    quick: bool,
    out: PathBuf,
    ours: Option<PathBuf>,
    official: Option<PathBuf>,
    no_build: bool,
    verbose: bool,
}

fn parse_options(args: impl Iterator<Item = String>) -> Result<Options, String> {
    let root = workspace_root();
    let mut options = Options {
        rounds: 15,
        echo_invocations: 20_000,
        sleep_waves: 20,
        quick: false,
        out: root.join("benches/results/concurrency"),
        ours: None,
        official: None,
        no_build: false,
        verbose: false,
    };
    let mut out_given = false;
    let mut args = Args::new(args, USAGE);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--rounds" => options.rounds = args.count_above_0(&arg)?,
            "--echo" => options.echo_invocations = args.count_above_0(&arg)?,
            "--sleep-waves" => options.sleep_waves = args.count_above_0(&arg)?,
            "--quick" => {
                options.quick = true;
                options.rounds = 1;
                options.echo_invocations = 1000;
                options.sleep_waves = 4;
                if !out_given {
                    options.out = root.join("target/concurrency-quick");
                }
            }
            "--out" => {
                options.out = PathBuf::from(args.value(&arg)?);
                out_given = true;
            }
            "--ours" => options.ours = Some(args.value(&arg)?.into()),
            "--official" => options.official = Some(args.value(&arg)?.into()),
            "--no-build" => options.no_build = true,
            "--verbose" => options.verbose = true,
            other => return Err(args.not_an_option(other)),
        }
    }
    Ok(options)
}

/// A handler, its event, and how many invocations at once.
pub struct Case {
    pub handler: &'static str,
    /// `AWS_LAMBDA_MAX_CONCURRENCY`.
    pub workers: u32,
    pub payload: Vec<u8>,
    pub expected: Expected,
    /// Invocations in the measured batch.
    pub invocations: u32,
    /// Invocations before it, not counted.
    pub warmup: u32,
}

fn cases(options: &Options) -> Vec<Case> {
    let mut cases = Vec::new();
    for handler in HANDLERS {
        for workers in WORKERS {
            let (payload, expected, invocations) = match handler {
                "echo" => {
                    let payload = crate::echo_payload(64);
                    let expected = Expected::Bytes(payload.clone());
                    (payload, expected, options.echo_invocations)
                }
                _ => (
                    format!(r#"{{"ms":{SLEEP_MS}}}"#).into_bytes(),
                    Expected::Json(serde_json::json!({ "slept_ms": SLEEP_MS })),
                    options.sleep_waves * workers,
                ),
            };
            cases.push(Case {
                handler,
                workers,
                payload,
                expected,
                invocations,
                warmup: WARMUP_PER_WORKER * workers,
            });
        }
    }
    cases
}

/// The two runtimes, in the order of even rounds (odd rounds run them the other way round).
pub const RUNTIMES: [&str; 2] = [OURS, OFFICIAL];

fn binary(binaries: &ConcurrencyBinaries, runtime: usize, handler: &str) -> PathBuf {
    match RUNTIMES[runtime] {
        OURS => binaries.ours(handler),
        _ => binaries.official.clone(),
    }
}

/// What one process measured.
pub struct Sample {
    pub round: u32,
    /// Index into [`RUNTIMES`].
    pub runtime: usize,
    /// Index into the cases.
    pub case: usize,
    /// Spawn → all N workers poll `/next`.
    pub ready: Duration,
    /// Invocations in the measured batch.
    pub invocations: u32,
    /// The batch released → its last answer read.
    pub wall: Duration,
    /// CPU time of the process over the batch, from its CPU clock (all threads).
    pub cpu: Duration,
    /// The same from `utime` + `stime` of /proc/PID/stat, in 10 ms ticks: the cross-check.
    pub cpu_ticks: u64,
    /// Context switches of the process's threads over the batch.
    pub context_switches: u64,
    /// VmHWM at the end: the whole life of the process, init included.
    pub peak_rss_kib: u64,
    /// RssAnon and RssFile at the end (now, not peak).
    pub rss_anon_kib: u64,
    pub rss_file_kib: u64,
    pub threads: u32,
    /// The most invocations the runtime had at once (≤ N).
    pub max_in_flight: u32,
    /// Each measured invocation's round trip (handed out → answer read), sorted, in ns.
    pub round_trip_ns: Vec<u64>,
    /// Wrong answers, error reports, answers for unknown or already answered ids, more
    /// invocations at once than N.
    pub failures: u32,
}

impl Sample {
    pub fn throughput(&self) -> f64 {
        f64::from(self.invocations) / self.wall.as_secs_f64()
    }

    pub fn cpu_per_invocation_us(&self) -> f64 {
        self.cpu.as_secs_f64() * 1e6 / f64::from(self.invocations)
    }
}

/// `cargo run -p coldstart -- concurrency [options]`.
pub fn main(args: impl Iterator<Item = String>) -> ExitCode {
    cli::exit(
        parse_options(args),
        run,
        "see the failures column of the CSV",
    )
}

/// Runs every round and writes the reports; returns how many invocations failed.
fn run(options: &Options) -> Result<u32, String> {
    let binaries = bootstraps::prepare_concurrency(
        options.ours.clone(),
        options.official.clone(),
        options.no_build,
        &HANDLERS,
    )?;
    let cases = cases(options);
    let server = Server::start().map_err(|e| format!("cannot start the Runtime API: {e}"))?;

    let total = (cases.len() * RUNTIMES.len()) as u64 * u64::from(options.rounds);
    let progress = cli::progress_bar(total)?;
    let mut samples = Vec::with_capacity(total as usize);
    let mut first_failure = None;
    for round in 0..options.rounds {
        for (case_index, case) in cases.iter().enumerate() {
            // A B, then B A in the next round: each pair runs back to back, so drift of the
            // machine hits both alike, and neither always goes first.
            let order: [usize; 2] = if round % 2 == 0 { [0, 1] } else { [1, 0] };
            for runtime in order {
                let name = RUNTIMES[runtime];
                progress.set_message(format!(
                    "{} N={} {name} #{round}",
                    case.handler, case.workers
                ));
                let path = binary(&binaries, runtime, case.handler);
                let (sample, failure) = measure(&server, &path, case, options)
                    .map_err(|e| format!("{name} {} N={}: {e}", case.handler, case.workers))?;
                if let Some(failure) = failure {
                    first_failure.get_or_insert(format!("{name}: {failure}"));
                }
                samples.push(Sample {
                    round,
                    runtime,
                    case: case_index,
                    ..sample
                });
                progress.inc(1);
            }
        }
    }
    cli::finish(&progress, first_failure.as_deref());

    let run = report::Run {
        cases: &cases,
        samples: &samples,
        rounds: options.rounds,
        quick: options.quick,
        ours_binary: match &options.ours {
            Some(path) => path.display().to_string(),
            None => "the one-function binaries (bootstrap/src/bin/echo.rs, sleep.rs)".to_owned(),
        },
    };
    let written = report::write_all(&run, &options.out).map_err(|e| e.to_string())?;
    bench_support::report::print(&report::markdown_tables(&run), &written);
    Ok(samples.iter().map(|s| s.failures).sum())
}

/// Starts the binary at `path` with `AWS_LAMBDA_MAX_CONCURRENCY` = N, waits for its N workers,
/// warms it up, measures one batch, then kills it.
fn measure(
    server: &Server,
    path: &std::path::Path,
    case: &Case,
    options: &Options,
) -> Result<(Sample, Option<String>), String> {
    let batch = Batch::new(&case.payload, case.expected.clone());
    server.begin(batch.clone());
    let mut command = lambda_env::command(path, server.addr(), case.handler, options.verbose);
    // What Lambda Managed Instances sets.
    command
        .env("AWS_LAMBDA_MAX_CONCURRENCY", case.workers.to_string())
        .env("AWS_LAMBDA_INITIALIZATION_TYPE", "lambda-managed-instances")
        .env("AWS_LAMBDA_LOG_FORMAT", "JSON");

    let spawned = Instant::now();
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", path.display()))?;
    let measured = measure_process(&batch, &mut child, case, spawned);
    batch.close();
    let _ = child.kill();
    let _ = child.wait();
    server.settle(Duration::from_secs(2));
    let results = batch.results(case.warmup);
    let mut sample = measured.map_err(|e| match &results.first_failure {
        Some(failure) => format!("{e}; {failure}"),
        None => e,
    })?;
    let mut failures = results.failures;
    let mut first_failure = results.first_failure;
    if results.max_in_flight > case.workers {
        failures += 1;
        first_failure.get_or_insert(format!(
            "{} invocations at once, more than AWS_LAMBDA_MAX_CONCURRENCY={}",
            results.max_in_flight, case.workers
        ));
    }
    sample.max_in_flight = results.max_in_flight;
    sample.round_trip_ns = results.round_trip_ns;
    sample.failures = failures;
    Ok((sample, first_failure))
}

/// The measurement proper, while the process runs.
fn measure_process(
    batch: &Batch,
    child: &mut Child,
    case: &Case,
    spawned: Instant,
) -> Result<Sample, String> {
    let pid = child.id();
    let n = case.workers;
    // Generous: a loaded machine may be slow, but a hang must end.
    let allowance = |invocations: u32| {
        let per_wave = Duration::from_millis(SLEEP_MS + 20);
        Duration::from_secs(30) + per_wave * invocations.div_ceil(n)
    };

    wait_idle(batch, child, n, allowance(0))?;
    let ready = spawned.elapsed();
    batch.release(case.warmup);
    wait_idle(batch, child, n, allowance(case.warmup))?;

    let switches_before = procfs::context_switches(pid)?;
    let (cpu_before, ticks_before) = (procfs::cpu_time(pid)?, procfs::cpu_ticks(pid)?);
    let released = batch.release(case.invocations);
    wait_idle(batch, child, n, allowance(case.invocations))?;
    let (cpu_after, ticks_after) = (procfs::cpu_time(pid)?, procfs::cpu_ticks(pid)?);
    let switches_after = procfs::context_switches(pid)?;
    let last_answer = batch.last_answer().ok_or("no answer came")?;

    Ok(Sample {
        round: 0,
        runtime: 0,
        case: 0,
        ready,
        invocations: case.invocations,
        wall: last_answer - released,
        cpu: cpu_after.saturating_sub(cpu_before),
        cpu_ticks: ticks_after.saturating_sub(ticks_before),
        context_switches: switches_after.saturating_sub(switches_before),
        peak_rss_kib: procfs::peak_rss_kib(pid)?,
        rss_anon_kib: procfs::status_kib(pid, "RssAnon")?,
        rss_file_kib: procfs::status_kib(pid, "RssFile")?,
        threads: procfs::threads(pid)?,
        max_in_flight: 0,
        round_trip_ns: Vec::new(),
        failures: 0,
    })
}

/// Waits until every released event is answered and `workers` polls wait for more (the
/// runtime's workers all idle), or fails when the process exits or `allowance` runs out.
fn wait_idle(
    batch: &Batch,
    child: &mut Child,
    workers: u32,
    allowance: Duration,
) -> Result<(), String> {
    let deadline = Instant::now() + allowance;
    loop {
        let (idle, waiting) = batch.wait_idle(workers, Duration::from_millis(100));
        if idle {
            return Ok(());
        }
        match child.try_wait() {
            Ok(Some(status)) => return Err(format!("the process exited early ({status})")),
            Ok(None) if Instant::now() > deadline => {
                return Err(format!(
                    "timed out after {allowance:?} with {waiting} of {workers} workers polling \
                     /next and not every event answered"
                ));
            }
            Ok(None) => {}
            Err(e) => return Err(format!("cannot wait for the process: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleep_batches_are_whole_waves_and_echo_batches_fixed() {
        let options = parse_options(["--quick".to_owned()].into_iter()).unwrap();
        let cases = cases(&options);
        assert_eq!(cases.len(), HANDLERS.len() * WORKERS.len());
        for case in &cases {
            assert_eq!(case.warmup, WARMUP_PER_WORKER * case.workers);
            match case.handler {
                "sleep" => assert_eq!(case.invocations, 4 * case.workers),
                _ => assert_eq!(case.invocations, 1000),
            }
        }
    }
}
