//! Cold-start and warm-invoke benchmark of the bootstrap against the official `lambda_runtime`
//! and a raw-socket floor, on the harness's own Runtime API on loopback; with the subcommand
//! `concurrency`, the Lambda Managed Instances benchmark (throughput, CPU and memory with N
//! invocations at once; see `concurrency.rs`).
//!
//! `cargo run --release -p coldstart -- --help` (or `-- concurrency --help`) lists the options;
//! `benches/README.md` says what is measured and how.

mod bootstraps;
mod concurrency;
mod procfs;
mod report;
mod server;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use bootstraps::{Bootstrap, Sources};
use server::{Expected, Server, Session};

const USAGE: &str = "\
usage: cargo run --release -p coldstart -- [options]
       cargo run --release -p coldstart -- concurrency [options]   (its own --help)

  --starts K        cold starts per bootstrap, handler and payload (default 50)
  --warm N          warm invocations after the first, per start (default 10000)
  --quick           K=3, N=200, results in target/coldstart-quick/ (for CI); the figures and
                    ratios only, not judged against the targets (too few starts for that)
  --out DIR         where the table, CSV and chart go (default benches/results/)
  --ours PATH       use this lambda-blocking-rt bootstrap instead of building it
  --official PATH   use this lambda_runtime bootstrap instead of building it
  --floor PATH      use this floor binary instead of building it
  --no-build        use the binaries at their default paths without running cargo
  --pin CPU         run the harness and every bootstrap on this one CPU (sched_setaffinity):
                    round trips then show CPU work rather than cross-CPU wake-up latency
  --verbose         let the bootstraps' stdout and stderr through

Without --ours/--official/--floor/--no-build the harness builds all three itself:
  cargo build --release --target x86_64-unknown-linux-musl -p bootstrap -p floor
  cargo build --release --target x86_64-unknown-linux-musl --locked \\
      --manifest-path benches/official/Cargo.toml";

struct Options {
    starts: u32,
    warm: u32,
    out: PathBuf,
    sources: Sources,
    pin: Option<usize>,
    verbose: bool,
    /// `--quick`: figures without judging them against the targets.
    quick: bool,
}

fn parse_options() -> Result<Options, String> {
    let root = bootstraps::workspace_root();
    let mut options = Options {
        starts: 50,
        warm: 10_000,
        out: root.join("benches/results"),
        sources: Sources {
            ours: None,
            official: None,
            floor: None,
            no_build: false,
        },
        pin: None,
        verbose: false,
        quick: false,
    };
    let mut out_given = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        let number = |text: String| {
            text.parse::<u32>()
                .map_err(|_| format!("not a count: {text}"))
        };
        match arg.as_str() {
            "--starts" => options.starts = number(value()?)?.max(1),
            "--warm" => options.warm = number(value()?)?,
            "--quick" => {
                options.quick = true;
                options.starts = 3;
                options.warm = 200;
                if !out_given {
                    options.out = root.join("target/coldstart-quick");
                }
            }
            "--out" => {
                options.out = PathBuf::from(value()?);
                out_given = true;
            }
            "--ours" => options.sources.ours = Some(value()?.into()),
            "--official" => options.sources.official = Some(value()?.into()),
            "--floor" => options.sources.floor = Some(value()?.into()),
            "--no-build" => options.sources.no_build = true,
            "--pin" => {
                let cpu = value()?;
                options.pin = Some(
                    cpu.parse()
                        .map_err(|_| format!("not a CPU number: {cpu}"))?,
                );
            }
            "--verbose" => options.verbose = true,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown option {other}\n\n{USAGE}")),
        }
    }
    Ok(options)
}

/// A handler and the event it gets.
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

/// What one cold start measured.
pub struct Sample {
    pub bootstrap: usize,
    pub case: usize,
    pub start: u32,
    /// Spawn → first `GET /next` arrived.
    pub init: Duration,
    /// First event handed out → its response read.
    pub first_invoke: Duration,
    /// The warm invocations' round trips, sorted, in nanoseconds.
    pub warm_ns: Vec<u64>,
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
    let options = match parse_options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(failures) => {
            eprintln!("{failures} invocations failed; see the failures column of the CSV");
            ExitCode::FAILURE
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the benchmark and writes the reports; returns how many invocations failed.
fn run(options: &Options) -> Result<u32, String> {
    let bootstraps = bootstraps::prepare(&options.sources)?;
    if let Some(cpu) = options.pin {
        pin_to_cpu(cpu)?;
    }
    let cases = cases();
    let server = Server::start().map_err(|e| format!("cannot start the Runtime API: {e}"))?;

    let total = (cases.len() * bootstraps.len()) as u64 * u64::from(options.starts);
    let progress = ProgressBar::new(total).with_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} {msg} (eta {eta})")
            .map_err(|e| e.to_string())?
            .progress_chars("=> "),
    );
    let mut samples = Vec::with_capacity(total as usize);
    let mut first_failure = None;
    for (case_index, case) in cases.iter().enumerate() {
        // A B C A B C …: each round runs every bootstrap once, so drift hits them alike.
        for start in 0..options.starts {
            for (bootstrap_index, bootstrap) in bootstraps.iter().enumerate() {
                progress.set_message(format!(
                    "{} {} {} #{start}",
                    case.handler, case.payload_label, bootstrap.name
                ));
                let (sample, failure) = cold_start(&server, bootstrap, case, options)
                    .map_err(|e| format!("{} {}: {e}", bootstrap.name, case.handler))?;
                if let Some(failure) = failure {
                    first_failure.get_or_insert(format!("{}: {failure}", bootstrap.name));
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
    progress.finish();
    if let Some(failure) = &first_failure {
        eprintln!("first failure: {failure}");
    }

    let run = report::Run {
        bootstraps: &bootstraps,
        cases: &cases,
        samples: &samples,
        starts: options.starts,
        warm: options.warm,
        pin: options.pin,
        judge_targets: !options.quick,
    };
    let written = report::write_all(&run, &options.out).map_err(|e| e.to_string())?;
    println!("{}", report::markdown_tables(&run));
    for path in written {
        println!("wrote {}", path.display());
    }
    Ok(samples.iter().map(|s| s.failures).sum())
}

/// Starts `bootstrap` once, serves it `1 + warm` invocations of `case`, then kills it.
fn cold_start(
    server: &Server,
    bootstrap: &Bootstrap,
    case: &Case,
    options: &Options,
) -> Result<(Sample, Option<String>), String> {
    let session = Session::new(options.warm + 1, &case.payload, case.expected.clone());
    server.begin(session.clone());
    let mut command = lambda_command(&bootstrap.path, server, case.handler, options.verbose);

    let spawned = Instant::now();
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bootstrap.path.display()))?;
    // Generous: a slow machine may take a few ms per 1 MiB round trip.
    let deadline = spawned + Duration::from_secs(30) + Duration::from_millis(20) * options.warm;
    let outcome = loop {
        if session.wait_done(Duration::from_millis(100)) {
            break Ok(());
        }
        match child.try_wait() {
            Ok(Some(status)) => break Err(format!("the process exited early ({status})")),
            Ok(None) if Instant::now() > deadline => break Err("timed out".to_owned()),
            Ok(None) => {}
            Err(e) => break Err(format!("cannot wait for the process: {e}")),
        }
    };
    let peak_rss_kib = procfs::peak_rss_kib(child.id());
    let minor_faults = procfs::minor_faults(child.id());
    let _ = child.kill();
    let _ = child.wait();
    server.settle(Duration::from_secs(1));
    let progress = session.take_progress();
    outcome.map_err(|e| match &progress.first_failure {
        Some(failure) => format!("{e}; {failure}"),
        None => e,
    })?;
    let peak_rss_kib = peak_rss_kib.map_err(|e| format!("cannot read VmHWM: {e}"))?;

    let (Some(first_next), Some(first_invoke)) = (progress.first_next, progress.first_round_trip)
    else {
        return Err("done without a first invocation".to_owned());
    };
    let mut warm_ns = progress.warm_ns;
    warm_ns.sort_unstable();
    let sample = Sample {
        bootstrap: 0,
        case: 0,
        start: 0,
        init: first_next - spawned,
        first_invoke,
        warm_ns,
        peak_rss_kib,
        minor_faults: minor_faults.map_err(|e| format!("cannot read minflt: {e}"))?,
        failures: progress.failures,
    };
    Ok((sample, progress.first_failure))
}

/// The command that starts `path` as Lambda would, against `server`: a clean environment with only
/// what Lambda sets (the official runtime refuses to start without the function's name, memory
/// size, version and log group and stream); stdout and stderr to /dev/null unless `verbose`.
pub fn lambda_command(path: &Path, server: &Server, handler: &str, verbose: bool) -> Command {
    let output = || {
        if verbose {
            Stdio::inherit()
        } else {
            Stdio::null()
        }
    };
    let mut command = Command::new(path);
    command
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", server.addr().to_string())
        .env("_HANDLER", handler)
        .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/22/[$LATEST]bench")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
        .env("LAMBDA_TASK_ROOT", "/var/task")
        .stdin(Stdio::null())
        .stdout(output())
        .stderr(output());
    command
}

/// Pins the calling thread to one CPU; threads and children it starts from now on inherit the
/// mask, so call it before the server starts.
fn pin_to_cpu(cpu: usize) -> Result<(), String> {
    // SAFETY: cpu_set_t is plain data; CPU_SET bounds-checks nothing, so `cpu` is checked first.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if cpu >= 8 * std::mem::size_of::<libc::cpu_set_t>() {
            return Err(format!("CPU {cpu} is out of range"));
        }
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(format!(
                "cannot pin to CPU {cpu}: {}",
                std::io::Error::last_os_error()
            ));
        }
    }
    Ok(())
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
