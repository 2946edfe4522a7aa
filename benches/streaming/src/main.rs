//! Response streaming benchmark: time to first byte and total time of a 1 MiB response written
//! in 16 pieces of 64 KiB, on `lambda-blocking-rt` and on the official `lambda_runtime`,
//! streamed and buffered, on the harness's own Runtime API on loopback.
//!
//! `cargo run --release -p streaming -- --help` lists the options; `benches/streaming/README.md`
//! says what is measured and how.

mod check;
mod functions;
mod report;
mod server;

use std::path::PathBuf;
use std::process::{Child, ExitCode};
use std::time::{Duration, Instant};

use bench_support::build::workspace_root;
use bench_support::cli::{self, Args};
use bench_support::lambda_env;
use check::Expected;
use functions::{Function, OFFICIAL, OURS, Response};
use server::{Api, Record};

const USAGE: &str = "\
usage: cargo run --release -p streaming -- [options]

  --rounds K     warm invocations per function (default 1000), after one warm-up invocation;
                 each round invokes the six functions once, one after the other
  --quick        K=30, results in target/streaming-quick/ (for CI)
  --out DIR      where the table, CSV and chart go (default benches/results/streaming/)
  --no-build     use the binaries at their default paths without running cargo
  --verbose      let the functions' stdout and stderr through

Without --no-build the harness builds the functions itself:
  cargo build --release --target x86_64-unknown-linux-musl -p streaming \\
      --bin ours-stream --bin ours-buffered --bin ours-http-stream
  cargo build --release --target x86_64-unknown-linux-musl --locked \\
      --manifest-path benches/official/Cargo.toml --no-default-features \\
      --features streaming --bin stream --bin buffered --bin http-stream \\
      --target-dir benches/official/target/rust-lld
(with CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_LINKER=rust-lld unless it is set)";

/// How long one invocation may take before the run is abandoned.
const INVOKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a function may take to start and ask for its first event.
const START_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Options {
    pub rounds: u32,
    pub quick: bool,
    pub out: PathBuf,
    no_build: bool,
    verbose: bool,
}

fn parse_options() -> Result<Options, String> {
    let root = workspace_root();
    let mut options = Options {
        rounds: 1000,
        quick: false,
        out: root.join("benches/results/streaming"),
        no_build: false,
        verbose: false,
    };
    let mut out_given = false;
    let mut args = Args::new(std::env::args().skip(1), USAGE);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--rounds" => options.rounds = args.count(&arg)?.max(1),
            "--quick" => {
                options.rounds = 30;
                options.quick = true;
                if !out_given {
                    options.out = root.join("target/streaming-quick");
                }
            }
            "--out" => {
                options.out = PathBuf::from(args.value(&arg)?);
                out_given = true;
            }
            "--no-build" => options.no_build = true,
            "--verbose" => options.verbose = true,
            other => return Err(args.not_an_option(other)),
        }
    }
    Ok(options)
}

/// One invocation's figures. Times from the instant the `/next` answer is about to be written.
pub struct Sample {
    pub function: usize,
    /// 0 is the warm-up invocation, left out of the statistics.
    pub round: u32,
    /// To the `POST`'s head read: the function has begun its answer.
    pub head: Duration,
    /// To the first payload byte (after a function URL prelude): the time to first byte.
    pub ttfb: Option<Duration>,
    /// To the first body byte, prelude included.
    pub first_body_byte: Option<Duration>,
    /// To the end of the body.
    pub total: Duration,
    pub body_bytes: usize,
    pub chunks: usize,
    pub problem: Option<String>,
}

/// What a function's process spent on its warm invocations, from `/proc/PID/stat` read before
/// the first warm round and after the last (all its threads).
#[derive(Clone, Copy)]
pub struct ProcessCost {
    /// User + system CPU time per invocation, µs; `None` when the run was too short for the
    /// kernel's 10 ms ticks to say (under 20 ticks; over 2000 invocations they give ±5 µs).
    pub cpu_us: Option<f64>,
    pub minor_faults: f64,
}

/// How a function that fails after its first piece reports it.
pub struct FailureCheck {
    pub runtime: &'static str,
    pub record: Record,
}

/// Everything a run produced.
pub struct Run {
    pub functions: Vec<Function>,
    pub samples: Vec<Sample>,
    /// Each function's first warm invocation, for the protocol table.
    pub first_warm: Vec<Option<Record>>,
    pub costs: Vec<Option<ProcessCost>>,
    pub failure_checks: Vec<FailureCheck>,
    pub rounds: u32,
    pub quick: bool,
}

fn main() -> ExitCode {
    cli::exit(parse_options(), run, "see the `problem` column of the CSV")
}

/// Runs the benchmark and writes the reports; returns how many invocations failed.
fn run(options: &Options) -> Result<usize, String> {
    let functions = functions::prepare(options.no_build)?;
    let mut running = Vec::new();
    for function in &functions {
        let api = Api::start(&function.event(), function.expected())
            .map_err(|e| format!("cannot start a Runtime API: {e}"))?;
        let child = start(function, &api, "bench", options.verbose)?;
        running.push((api, child));
    }
    let measured = measure(&functions, &mut running, options.rounds);
    for (api, mut child) in running {
        let _ = child.kill();
        let _ = child.wait();
        api.shut_down();
    }
    let (samples, first_warm, costs) = measured?;

    let mut failure_checks = Vec::new();
    for function in functions
        .iter()
        .filter(|f| f.response == Response::Streamed)
    {
        let record = invoke_failing(function, options.verbose)
            .map_err(|e| format!("{} with _HANDLER=fail: {e}", function.name()))?;
        failure_checks.push(FailureCheck {
            runtime: function.runtime,
            record,
        });
    }

    let run = Run {
        functions,
        samples,
        first_warm,
        costs,
        failure_checks,
        rounds: options.rounds,
        quick: options.quick,
    };
    let written = report::write_all(&run, &options.out).map_err(|e| e.to_string())?;
    bench_support::report::print(&report::markdown(&run), &written);
    let failed: Vec<&Sample> = run.samples.iter().filter(|s| s.problem.is_some()).collect();
    if let Some(first) = failed.first() {
        eprintln!(
            "first failure: {} round {}: {}",
            run.functions[first.function].name(),
            first.round,
            first.problem.as_deref().unwrap_or_default()
        );
    }
    Ok(failed.len())
}

/// Round 0 (warm-up) and `rounds` more; each round invokes every function once, in order, so
/// drift of the machine hits them alike.
type Measured = (Vec<Sample>, Vec<Option<Record>>, Vec<Option<ProcessCost>>);

fn measure(
    functions: &[Function],
    running: &mut [(Api, Child)],
    rounds: u32,
) -> Result<Measured, String> {
    for (function, (api, child)) in functions.iter().zip(running.iter_mut()) {
        wait_started(function, api, child)?;
    }
    let mut samples = Vec::with_capacity(functions.len() * (rounds as usize + 1));
    let mut first_warm = vec![None; functions.len()];
    let began = Instant::now();
    let mut before = Vec::new();
    for round in 0..=rounds {
        if round == 1 {
            before = running
                .iter()
                .map(|(_, child)| proc_stat(child.id()))
                .collect();
        }
        if round > 0 && round % (rounds / 10).max(1) == 0 {
            eprintln!(
                "round {round}/{rounds} ({:.0} s)",
                began.elapsed().as_secs_f64()
            );
        }
        for (index, (function, (api, child))) in
            functions.iter().zip(running.iter_mut()).enumerate()
        {
            let record = invoke(function, api, child, round)?;
            samples.push(Sample {
                function: index,
                round,
                head: record.head,
                ttfb: record.first_payload_byte,
                first_body_byte: record.first_body_byte,
                total: record.end,
                body_bytes: record.body_bytes,
                chunks: record.chunks.len(),
                problem: record.problem.clone(),
            });
            if round == 1 {
                first_warm[index] = Some(record);
            }
        }
    }
    let costs = running
        .iter()
        .zip(before)
        .map(|((_, child), before)| {
            let (faults_0, ticks_0) = before?;
            let (faults, ticks) = proc_stat(child.id())?;
            let n = f64::from(rounds);
            Some(ProcessCost {
                cpu_us: (ticks - ticks_0 >= 20).then(|| (ticks - ticks_0) as f64 * 10_000.0 / n),
                minor_faults: (faults - faults_0) as f64 / n,
            })
        })
        .collect();
    Ok((samples, first_warm, costs))
}

/// Minor faults and user + system CPU ticks (10 ms: USER_HZ is 100 in the /proc ABI) of a
/// process, all threads, from /proc/PID/stat; the fields are counted after the `)` that ends
/// the command name.
fn proc_stat(pid: u32) -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, fields) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = fields.split_whitespace().collect();
    let field = |i: usize| fields.get(i)?.parse::<u64>().ok();
    // After the `)`: state is 0, minflt 7, utime 11, stime 12.
    Some((field(7)?, field(11)? + field(12)?))
}

/// One invocation of a started function.
fn invoke(function: &Function, api: &Api, child: &mut Child, index: u32) -> Result<Record, String> {
    match api.invoke(index, INVOKE_TIMEOUT) {
        Ok(Some(record)) => Ok(record),
        Ok(None) => Err(match child.try_wait() {
            Ok(Some(status)) => format!("{} exited ({status})", function.name()),
            _ => format!(
                "{}: no answer, or no next poll, within {INVOKE_TIMEOUT:?}",
                function.name()
            ),
        }),
        Err(e) => Err(format!("{}: {e}", function.name())),
    }
}

/// Waits for a started function's first `GET /next`.
fn wait_started(function: &Function, api: &Api, child: &mut Child) -> Result<(), String> {
    let until = Instant::now() + START_TIMEOUT;
    while !api.wait_parked(Duration::from_millis(50)) {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("{} exited at start ({status})", function.name()));
        }
        if Instant::now() > until {
            return Err(format!(
                "{} did not ask for an event within {START_TIMEOUT:?}",
                function.name()
            ));
        }
    }
    Ok(())
}

/// Starts `function`'s process on `api`, with the environment Lambda sets.
fn start(function: &Function, api: &Api, handler: &str, verbose: bool) -> Result<Child, String> {
    lambda_env::command(&function.path, api.addr(), handler, verbose)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", function.path.display()))
}

/// Starts `function` with `_HANDLER=fail` (its first piece, then an error), invokes it once and
/// returns what reached the Runtime API.
fn invoke_failing(function: &Function, verbose: bool) -> Result<Record, String> {
    let api = Api::start(&function.event(), Expected::Anything)
        .map_err(|e| format!("cannot start a Runtime API: {e}"))?;
    let mut child = start(function, &api, "fail", verbose)?;
    let record = wait_started(function, &api, &mut child)
        .and_then(|()| invoke(function, &api, &mut child, 0));
    let _ = child.kill();
    let _ = child.wait();
    api.shut_down();
    record
}

/// The runtimes, as the tables name them.
pub const RUNTIMES: [&str; 2] = [OURS, OFFICIAL];
