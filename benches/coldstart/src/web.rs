//! `coldstart web`: the `web` function (lambda-blocking-rt's web adapter) against the same
//! behaviour on the official `lambda_http` (`benches/official`'s `web`), on an API Gateway REST
//! event and an HTTP API event (`tests/fixtures/web/`): binary size, init, first invocation,
//! warm round trip p50, CPU per warm invocation and peak RSS, medians over the starts, written
//! to `benches/results/web/` (`web.md`, `web.csv`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bench_support::build::{self, Linker, workspace_root};
use bench_support::runtime_api::Server;
use bench_support::stats::median_of_middle as median;

use crate::bootstraps::Binary;
use crate::server::Expected;
use crate::{Case, Options, PageCache, Sample, cold_start};

const USAGE: &str = "\
usage: cargo run --release -p coldstart -- web [options]

  --starts K        starts per runtime and event (default 20)
  --warm N          warm invocations after the first, per start (default 2000)
  --quick           K=3, N=200, results in target/coldstart-quick/web/ (for CI)
  --out DIR         where web.md and web.csv go (default benches/results/web/)
  --pin CPU         run the harness and both bootstraps on this one CPU
  --no-build        use the binaries at their default paths without building them:
                      target/lambda/x86_64/web/bootstrap (scripts/build.sh --function web)
                      benches/official/target/x86_64-unknown-linux-musl/release/web";

const RUNTIMES: [&str; 2] = ["lambda-blocking-rt", "lambda_http"];

pub fn main(args: impl Iterator<Item = String>) -> ExitCode {
    match parse(args).and_then(|(options, no_build)| run(&options, no_build)) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(failures) => {
            eprintln!("{failures} invocations failed");
            ExitCode::FAILURE
        }
        Err(message) => {
            eprintln!("{message}");
            ExitCode::from(2)
        }
    }
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<(Options, bool), String> {
    let root = workspace_root();
    let mut options = Options::new(20, 2000, root.join("benches/results/web"));
    let mut no_build = false;
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--starts" => options.starts = value()?.parse().map_err(|_| "--starts: a number")?,
            "--warm" => options.warm = value()?.parse().map_err(|_| "--warm: a number")?,
            "--quick" => {
                (options.starts, options.warm, options.quick) = (3, 200, true);
                options.out = root.join("target/coldstart-quick/web");
            }
            "--out" => options.out = PathBuf::from(value()?),
            "--pin" => options.pin = Some(value()?.parse().map_err(|_| "--pin: a CPU number")?),
            "--no-build" => no_build = true,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown option {other}\n\n{USAGE}")),
        }
    }
    Ok((options, no_build))
}

fn cases(root: &Path) -> Result<Vec<(&'static str, Case)>, String> {
    let event = |name: &str| {
        let path = root.join("tests/fixtures/web").join(name);
        std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))
    };
    Ok(vec![
        (
            "REST API",
            Case {
                handler: "web",
                payload_label: "rest.json".into(),
                payload: event("rest.json")?,
                expected: Expected::WebDescription {
                    source: "rest",
                    method: "POST",
                },
            },
        ),
        (
            "HTTP API",
            Case {
                handler: "web",
                payload_label: "http-api.json".into(),
                payload: event("http-api.json")?,
                expected: Expected::WebDescription {
                    source: "http",
                    method: "PUT",
                },
            },
        ),
    ])
}

fn binaries(root: &Path, no_build: bool) -> Result<[Binary; 2], String> {
    let ours = build::shipped(root, "web");
    let official = build::official(root, "web", Linker::Default);
    if !no_build {
        build::build_shipped(root, &["web"])?;
        build::build_official(root, "web", &["web"], Linker::Default)?;
    }
    let sized = |path: PathBuf| -> Result<Binary, String> {
        let bytes = std::fs::metadata(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .len();
        Ok(Binary {
            serves: None,
            path,
            bytes,
            zip_bytes: 0,
        })
    };
    Ok([sized(ours)?, sized(official)?])
}

/// One row of the report: the medians over one runtime's starts on one event.
struct Row {
    init_us: f64,
    first_invoke_us: f64,
    warm_p50_us: f64,
    cpu_per_warm_us: f64,
    peak_rss_kib: f64,
    failures: u32,
}

fn summarize(samples: &[Sample]) -> Row {
    let us = |d: std::time::Duration| d.as_secs_f64() * 1e6;
    Row {
        init_us: median(samples.iter().map(|s| us(s.init)).collect()),
        first_invoke_us: median(samples.iter().map(|s| us(s.first_invoke)).collect()),
        warm_p50_us: median(
            samples
                .iter()
                .filter(|s| !s.warm_ns.is_empty())
                .map(|s| s.warm_ns[s.warm_ns.len() / 2] as f64 / 1e3)
                .collect(),
        ),
        cpu_per_warm_us: median(
            samples
                .iter()
                .filter_map(|s| s.cpu_per_warm_ns)
                .map(|ns| ns / 1e3)
                .collect(),
        ),
        peak_rss_kib: median(samples.iter().map(|s| s.peak_rss_kib as f64).collect()),
        failures: samples.iter().map(|s| s.failures).sum(),
    }
}

fn run(options: &Options, no_build: bool) -> Result<u32, String> {
    let root = workspace_root();
    let cases = cases(&root)?;
    let binaries = binaries(&root, no_build)?;
    if let Some(cpu) = options.pin {
        crate::pin_to_cpu(cpu)?;
    }
    let server = Server::start().map_err(|e| format!("cannot start the Runtime API: {e}"))?;
    // samples[case][runtime]
    let mut samples: Vec<[Vec<Sample>; 2]> = cases.iter().map(|_| [vec![], vec![]]).collect();
    for (case_index, (label, case)) in cases.iter().enumerate() {
        // A B A B …: each round runs both, so drift hits them alike.
        for start in 0..options.starts {
            for (runtime, binary) in binaries.iter().enumerate() {
                let (sample, failure) =
                    cold_start(&server, binary, PageCache::In, case, options)
                        .map_err(|e| format!("{} {label}: {e}", RUNTIMES[runtime]))?;
                if let Some(failure) = failure {
                    eprintln!("{} {label} start {start}: {failure}", RUNTIMES[runtime]);
                }
                samples[case_index][runtime].push(sample);
            }
        }
        eprintln!("{label}: {} starts each", options.starts);
    }

    let mut md = String::new();
    let mut csv = String::from(
        "event,runtime,binary_bytes,init_us,first_invoke_us,warm_p50_us,cpu_per_warm_us,peak_rss_kib,failures\n",
    );
    let _ = writeln!(
        md,
        "# web: lambda-blocking-rt's web adapter against lambda_http\n\n\
         {} starts per runtime and event, {} warm invocations each, medians{}; ratios are \
         lambda-blocking-rt ÷ lambda_http. Binaries: x86_64, static musl, the same release \
         profile (`benches/official`'s `web`; ours as `scripts/build.sh` ships `web`).\n\n\
         | binary | lambda-blocking-rt | lambda_http | ratio (target ≤ 0.6) |\n| --- | --: | --: | --: |\n\
         | x86_64 bytes | {} | {} | {:.2} |\n",
        options.starts,
        options.warm,
        options
            .pin
            .map_or(String::new(), |cpu| format!(", pinned to CPU {cpu}")),
        binaries[0].bytes,
        binaries[1].bytes,
        binaries[0].bytes as f64 / binaries[1].bytes as f64,
    );
    let mut failures = 0;
    for ((label, _), per_runtime) in cases.iter().zip(&samples) {
        let [ours, official] = [summarize(&per_runtime[0]), summarize(&per_runtime[1])];
        failures += ours.failures + official.failures;
        let _ = writeln!(
            md,
            "\n## {label} event\n\n| | lambda-blocking-rt | lambda_http | ratio |\n| --- | --: | --: | --: |"
        );
        let rows: [(&str, f64, f64); 5] = [
            ("init (µs)", ours.init_us, official.init_us),
            (
                "first invocation (µs)",
                ours.first_invoke_us,
                official.first_invoke_us,
            ),
            (
                "warm round trip p50 (µs)",
                ours.warm_p50_us,
                official.warm_p50_us,
            ),
            (
                "CPU per warm invocation (µs; target ratio ≤ 0.5)",
                ours.cpu_per_warm_us,
                official.cpu_per_warm_us,
            ),
            ("peak RSS (KiB)", ours.peak_rss_kib, official.peak_rss_kib),
        ];
        for (name, a, b) in rows {
            let _ = writeln!(md, "| {name} | {a:.1} | {b:.1} | {:.2} |", a / b);
        }
        for (runtime, row) in [&ours, &official].into_iter().enumerate() {
            let _ = writeln!(
                csv,
                "{label},{},{},{:.1},{:.1},{:.1},{:.2},{:.0},{}",
                RUNTIMES[runtime],
                binaries[runtime].bytes,
                row.init_us,
                row.first_invoke_us,
                row.warm_p50_us,
                row.cpu_per_warm_us,
                row.peak_rss_kib,
                row.failures
            );
        }
    }
    std::fs::create_dir_all(&options.out).map_err(|e| e.to_string())?;
    std::fs::write(options.out.join("web.md"), &md).map_err(|e| e.to_string())?;
    std::fs::write(options.out.join("web.csv"), &csv).map_err(|e| e.to_string())?;
    println!("{md}");
    println!("wrote {}", options.out.join("web.md").display());
    Ok(failures)
}
