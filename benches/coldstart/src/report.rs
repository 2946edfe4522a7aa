//! The results, written three ways: a markdown table (with the ratios, set against the targets
//! in a full run), a CSV of every cold start, and an SVG chart.
//!
//! The targets (issue "close to the floor"), ratios of medians of one run, judged in a full run
//! only, and meant for a pinned one: CPU per warm invocation ≤2.0× floor; warm round trip p50
//! of the 64 B echo ≤2.0× floor; init ≤1.2× floor, with the binary in the page cache and out of
//! it; peak RSS ≤0.7× `lambda_runtime`; the echo binary ≤600 000 bytes.

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use bench_support::chart::{Bars, Drawn, svg};
use bench_support::report::{csv_field, machine, utc_now, write_files};
use bench_support::stats::{median, percentile};

use crate::bootstraps::{Bootstrap, FLOOR, OFFICIAL, OURS};
use crate::{Case, PageCache, Sample};

/// Targets: ours ÷ the reference named.
const CPU_PER_WARM_VS_FLOOR: f64 = 2.0;
const WARM_P50_64B_VS_FLOOR: f64 = 2.0;
const INIT_VS_FLOOR: f64 = 1.2;
const PEAK_RSS_VS_OFFICIAL: f64 = 0.7;
/// Target: the echo function's binary, in bytes.
const ECHO_BINARY_BYTES: u64 = 600_000;

/// Everything one run produced.
pub struct Run<'a> {
    pub bootstraps: &'a [Bootstrap],
    pub cases: &'a [Case],
    pub samples: &'a [Sample],
    pub starts: u32,
    pub warm: u32,
    /// The CPU everything ran on, if pinned.
    pub pin: Option<usize>,
    /// Whether starts with the binary out of the page cache were made (`--cold-file`).
    pub cold_file: bool,
    /// Whether the ratios are judged against the targets (`miss` marks, target columns). A quick
    /// run has too few starts to judge them: it prints the figures and ratios alone.
    pub judge_targets: bool,
}

/// One bootstrap × case, over all its starts. Times in microseconds. The out-of-cache figures
/// are NaN without `--cold-file`.
struct Summary {
    /// Binary in the page cache.
    init_p50: f64,
    /// Binary out of the page cache (starts where it really was out).
    init_cold_p50: f64,
    /// Page faults at the first `GET /next`, in the page cache and out of it.
    init_faults_p50: (f64, f64),
    init_cold_faults_p50: (f64, f64),
    /// Out-of-cache starts left out because the binary stayed (partly) resident.
    cold_not_evicted: usize,
    first_invoke_p50: f64,
    warm_p50: f64,
    warm_p90: f64,
    warm_p99: f64,
    cpu_per_warm_p50: f64,
    peak_rss_p50_kib: f64,
    failures: u32,
}

fn micros(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

impl Run<'_> {
    fn samples_of(&self, bootstrap: usize, case: usize) -> impl Iterator<Item = &Sample> {
        self.samples
            .iter()
            .filter(move |s| s.bootstrap == bootstrap && s.case == case)
    }

    /// Init, first invoke, CPU per warm invocation and RSS are medians over starts (those with
    /// the binary in the page cache; init out of it over the others); the warm percentiles pool
    /// every warm invocation of every start.
    fn summary(&self, bootstrap: usize, case: usize) -> Summary {
        let cached = || {
            self.samples_of(bootstrap, case)
                .filter(|s| s.page_cache == PageCache::In)
        };
        let evicted = || {
            self.samples_of(bootstrap, case)
                .filter(|s| s.page_cache == PageCache::Out && s.residency.resident == 0)
        };
        let of = |f: fn(&Sample) -> f64| median(cached().map(f).collect());
        let of_cold = |f: fn(&Sample) -> f64| median(evicted().map(f).collect());
        let mut warm: Vec<u64> = cached().flat_map(|s| s.warm_ns.iter().copied()).collect();
        warm.sort_unstable();
        let warm_at = |p| percentile(&warm, p).map_or(f64::NAN, micros);
        let init = |s: &Sample| s.init.as_nanos() as f64 / 1000.0;
        Summary {
            init_p50: of(init),
            init_cold_p50: of_cold(init),
            init_faults_p50: (
                of(|s| s.init_major_faults as f64),
                of(|s| s.init_minor_faults as f64),
            ),
            init_cold_faults_p50: (
                of_cold(|s| s.init_major_faults as f64),
                of_cold(|s| s.init_minor_faults as f64),
            ),
            cold_not_evicted: self
                .samples_of(bootstrap, case)
                .filter(|s| s.page_cache == PageCache::Out && s.residency.resident > 0)
                .count(),
            first_invoke_p50: of(|s| s.first_invoke.as_nanos() as f64 / 1000.0),
            warm_p50: warm_at(0.5),
            warm_p90: warm_at(0.9),
            warm_p99: warm_at(0.99),
            cpu_per_warm_p50: of(|s| s.cpu_per_warm_ns.map_or(f64::NAN, |ns| ns / 1000.0)),
            peak_rss_p50_kib: of(|s| s.peak_rss_kib as f64),
            failures: self.samples_of(bootstrap, case).map(|s| s.failures).sum(),
        }
    }

    fn index_of(&self, name: &str) -> Option<usize> {
        self.bootstraps.iter().position(|b| b.name == name)
    }
}

/// Writes `coldstart.md`, `coldstart.csv` and `coldstart.svg` into `dir`.
pub fn write_all(run: &Run, dir: &Path) -> io::Result<Vec<PathBuf>> {
    write_files(dir, "coldstart", &markdown(run), &csv_rows(run), |svg| {
        chart(run, svg)
    })
}

fn markdown(run: &Run) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Cold-start benchmark results\n");
    let _ = writeln!(
        out,
        "{} UTC; {} cold starts per bootstrap × handler × payload, {} warm invocations each{}; \
         {}; {}.\n",
        utc_now(),
        run.starts,
        run.warm,
        if run.cold_file {
            "; and as many with the binary out of the page cache (first invocation only)"
        } else {
            ""
        },
        machine(),
        pinning(run)
    );
    out.push_str(&markdown_tables(run));
    let _ = writeln!(
        out,
        "\nRaw numbers, one row per cold start: `coldstart.csv`. Chart: `coldstart.svg`."
    );
    out
}

fn pinning(run: &Run) -> String {
    match run.pin {
        Some(cpu) => format!("pinned: harness and bootstraps on CPU {cpu}"),
        None => "not pinned: harness and bootstrap on any CPU".to_owned(),
    }
}

/// A median, or `–` where there is none (no out-of-cache starts, no warm invocations).
fn figure(value: f64, places: usize) -> String {
    if value.is_finite() {
        format!("{value:.places$}")
    } else {
        "–".to_owned()
    }
}

/// Major / minor page faults.
fn faults((major, minor): (f64, f64)) -> String {
    if major.is_finite() && minor.is_finite() {
        format!("{major:.0} / {minor:.0}")
    } else {
        "–".to_owned()
    }
}

/// The results table, the binaries measured, the ratio table and, in a full run, the targets
/// judged: as printed at the end of a run.
pub fn markdown_tables(run: &Run) -> String {
    let mut out = String::new();
    out.push_str(
        "| bootstrap | handler | payload | init p50, in page cache (µs) \
         | init p50, out of page cache (µs) | init faults p50, in cache (major / minor) \
         | init faults p50, out of cache (major / minor) | first invoke p50 (µs) \
         | warm p50 (µs) | warm p90 (µs) | warm p99 (µs) | CPU per warm invocation p50 (µs) \
         | peak RSS p50 (KiB) | binary (bytes) | zip (bytes) | failures |\n",
    );
    out.push_str("|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    let mut not_evicted = 0;
    for (c, case) in run.cases.iter().enumerate() {
        for (b, bootstrap) in run.bootstraps.iter().enumerate() {
            let s = run.summary(b, c);
            let binary = bootstrap.binary(case.handler);
            not_evicted += s.cold_not_evicted;
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                bootstrap.name,
                case.handler,
                case.payload_label.replace('|', "\\|"),
                figure(s.init_p50, 0),
                figure(s.init_cold_p50, 0),
                faults(s.init_faults_p50),
                faults(s.init_cold_faults_p50),
                figure(s.first_invoke_p50, 1),
                figure(s.warm_p50, 1),
                figure(s.warm_p90, 1),
                figure(s.warm_p99, 1),
                figure(s.cpu_per_warm_p50, 1),
                figure(s.peak_rss_p50_kib, 0),
                binary.bytes,
                binary.zip_bytes,
                s.failures
            );
        }
    }
    if !run.cold_file {
        out.push_str("\nOut of page cache: not measured (`--cold-file`).\n");
    } else if not_evicted > 0 {
        let _ = writeln!(
            out,
            "\n{not_evicted} start(s) meant to run out of the page cache found their binary \
             still (partly) resident, and are left out of the out-of-cache figures (CSV: \
             `resident_pages`)."
        );
    }
    out.push_str("\nBinaries measured:\n\n");
    for bootstrap in run.bootstraps {
        for binary in &bootstrap.binaries {
            let _ = writeln!(
                out,
                "- {} ({}): `{}`, {} bytes, zip {} bytes",
                bootstrap.name,
                match binary.serves {
                    Some(handler) => format!("{handler}, as shipped: serves only it"),
                    None => "every handler, chosen by `_HANDLER`".to_owned(),
                },
                binary.path.display(),
                binary.bytes,
                binary.zip_bytes
            );
        }
    }
    let (Some(ours), Some(official), Some(floor)) = (
        run.index_of(OURS),
        run.index_of(OFFICIAL),
        run.index_of(FLOOR),
    ) else {
        return out;
    };
    if run.judge_targets {
        let _ = writeln!(
            out,
            "\nRatios of {OURS} to the references (medians of this run; target in brackets, \
             `miss` where it is not met):\n"
        );
        out.push_str(&format!(
            "| handler | payload | CPU per warm invocation ÷ {FLOOR} (≤{CPU_PER_WARM_VS_FLOOR:.1}) \
             | CPU per warm invocation ÷ {OFFICIAL} \
             | warm p50 ÷ {FLOOR} (≤{WARM_P50_64B_VS_FLOOR:.1} for 64 B) \
             | init in page cache ÷ {FLOOR} (≤{INIT_VS_FLOOR:.1}) \
             | init out of page cache ÷ {FLOOR} (≤{INIT_VS_FLOOR:.1}) \
             | peak RSS ÷ {OFFICIAL} (≤{PEAK_RSS_VS_OFFICIAL:.1}) |\n"
        ));
    } else {
        let _ = writeln!(
            out,
            "\nRatios of {OURS} to the references (medians of this run; too few starts to \
             judge the targets: the full run does):\n"
        );
        out.push_str(&format!(
            "| handler | payload | CPU per warm invocation ÷ {FLOOR} \
             | CPU per warm invocation ÷ {OFFICIAL} | warm p50 ÷ {FLOOR} \
             | init in page cache ÷ {FLOOR} | init out of page cache ÷ {FLOOR} \
             | peak RSS ÷ {OFFICIAL} |\n"
        ));
    }
    out.push_str("|---|---|--:|--:|--:|--:|--:|--:|\n");
    // Each target's ratios over the cases, for the verdicts below.
    let mut judged = Judged::default();
    for (c, case) in run.cases.iter().enumerate() {
        let (o, r, f) = (
            run.summary(ours, c),
            run.summary(official, c),
            run.summary(floor, c),
        );
        let is_64b_echo = case.handler == "echo" && case.payload.len() == 64;
        let row = [
            (
                o.cpu_per_warm_p50 / f.cpu_per_warm_p50,
                Some(CPU_PER_WARM_VS_FLOOR),
            ),
            (o.cpu_per_warm_p50 / r.cpu_per_warm_p50, None),
            (
                o.warm_p50 / f.warm_p50,
                is_64b_echo.then_some(WARM_P50_64B_VS_FLOOR),
            ),
            (o.init_p50 / f.init_p50, Some(INIT_VS_FLOOR)),
            (o.init_cold_p50 / f.init_cold_p50, Some(INIT_VS_FLOOR)),
            (
                o.peak_rss_p50_kib / r.peak_rss_p50_kib,
                Some(PEAK_RSS_VS_OFFICIAL),
            ),
        ];
        let label = format!("{} {}", case.handler, case.payload_label);
        for (column, (value, target)) in row.iter().enumerate() {
            if target.is_some() {
                judged.columns[column].push((label.clone(), *value));
            }
        }
        let cells: Vec<String> = row
            .iter()
            .map(|&(value, target)| ratio(value, target.filter(|_| run.judge_targets)))
            .collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            case.handler,
            case.payload_label.replace('|', "\\|"),
            cells.join(" | ")
        );
    }
    let zip = ratio(
        run.bootstraps[ours].binary("echo").zip_bytes as f64
            / run.bootstraps[official].binary("echo").zip_bytes as f64,
        None,
    );
    let binary = ratio(
        run.bootstraps[ours].binary("echo").bytes as f64
            / run.bootstraps[official].binary("echo").bytes as f64,
        None,
    );
    let _ = writeln!(
        out,
        "\nBinary of echo: {OURS} ÷ {OFFICIAL} = {binary}; zip {zip}."
    );
    if run.judge_targets {
        out.push_str(&targets(run, &judged, run.bootstraps[ours].binary("echo")));
    }
    out
}

/// Per target column of the ratio table: (case, ratio) of the cases it applies to.
#[derive(Default)]
struct Judged {
    columns: [Vec<(String, f64)>; 6],
}

/// The targets of the issue, each with this run's figures and whether it is met.
fn targets(run: &Run, judged: &Judged, echo: &crate::bootstraps::Binary) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nTargets (ratios of medians of this run). They are judged on a pinned run \
         (`--pin CPU`); this run was {}.\n",
        match run.pin {
            Some(cpu) => format!("pinned to CPU {cpu}"),
            None => "not pinned, so the verdicts below are indicative only".to_owned(),
        }
    );
    out.push_str("| target | figure | met? |\n|---|---|---|\n");
    let rows = [
        (
            format!("CPU per warm invocation ≤{CPU_PER_WARM_VS_FLOOR:.1}× {FLOOR}"),
            0,
            CPU_PER_WARM_VS_FLOOR,
        ),
        (
            format!("warm round trip p50 (echo 64 B) ≤{WARM_P50_64B_VS_FLOOR:.1}× {FLOOR}"),
            2,
            WARM_P50_64B_VS_FLOOR,
        ),
        (
            format!("init, binary in page cache, ≤{INIT_VS_FLOOR:.1}× {FLOOR}"),
            3,
            INIT_VS_FLOOR,
        ),
        (
            format!("init, binary out of page cache, ≤{INIT_VS_FLOOR:.1}× {FLOOR}"),
            4,
            INIT_VS_FLOOR,
        ),
        (
            format!("peak RSS ≤{PEAK_RSS_VS_OFFICIAL:.1}× {OFFICIAL}"),
            5,
            PEAK_RSS_VS_OFFICIAL,
        ),
    ];
    for (name, column, target) in rows {
        let ratios = &judged.columns[column];
        let measured: Vec<&(String, f64)> = ratios.iter().filter(|(_, r)| r.is_finite()).collect();
        let figure = measured
            .iter()
            .map(|(case, r)| {
                let figure = ratio(*r, Some(target));
                format!("{case}: {}", figure.trim_end_matches(" miss"))
            })
            .collect::<Vec<_>>()
            .join("; ");
        let missed: Vec<&str> = measured
            .iter()
            .filter(|(_, r)| *r > target)
            .map(|(case, _)| case.as_str())
            .collect();
        let verdict = if measured.is_empty() {
            if column == 4 && !run.cold_file {
                "not measured: run with `--cold-file`".to_owned()
            } else {
                "not measured".to_owned()
            }
        } else if measured.len() < ratios.len() {
            format!(
                "not judged: {} of {} cases measured",
                measured.len(),
                ratios.len()
            )
        } else if missed.is_empty() {
            "met".to_owned()
        } else {
            format!("missed: {}", missed.join(", "))
        };
        let _ = writeln!(out, "| {name} | {} | {verdict} |", or_dash(figure));
    }
    let _ = writeln!(
        out,
        "| echo binary ≤{ECHO_BINARY_BYTES} bytes | {} bytes (`{}`) | {} |",
        echo.bytes,
        echo.path.display(),
        if echo.bytes <= ECHO_BINARY_BYTES {
            "met"
        } else {
            "missed"
        }
    );
    out
}

fn or_dash(text: String) -> String {
    if text.is_empty() {
        "–".to_owned()
    } else {
        text
    }
}

/// A ratio to two places, with ` miss` when a target is given and not met; to three when two
/// would round a miss down onto the target (0.703 against ≤0.7).
fn ratio(r: f64, target: Option<f64>) -> String {
    match target {
        _ if !r.is_finite() => "–".to_owned(),
        Some(target) if r > target && (r * 100.0).round() / 100.0 <= target => {
            format!("{r:.3} miss")
        }
        Some(target) if r > target => format!("{r:.2} miss"),
        _ => format!("{r:.2}"),
    }
}

fn csv_rows(run: &Run) -> String {
    let mut out = String::from(
        "bootstrap,handler,payload_bytes,start,page_cache,resident_pages,file_pages,init_us,\
         init_major_faults,init_minor_faults,first_invoke_us,warm_p50_us,warm_p90_us,\
         warm_p99_us,warm_count,cpu_per_warm_ns,cpu_clock_per_warm_ns,peak_rss_kib,\
         minor_faults,binary,binary_bytes,zip_bytes,failures\n",
    );
    // Empty where there is no value (no warm invocations).
    let optional = |value: Option<f64>| value.map_or(String::new(), |v| format!("{v:.0}"));
    for s in run.samples {
        let (bootstrap, case) = (&run.bootstraps[s.bootstrap], &run.cases[s.case]);
        let binary = bootstrap.binary(case.handler);
        let warm_at =
            |p| percentile(&s.warm_ns, p).map_or(String::new(), |ns| format!("{:.1}", micros(ns)));
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{:.1},{},{},{:.1},{},{},{},{},{},{},{},{},{},{},{},{}",
            bootstrap.name,
            case.handler,
            case.payload.len(),
            s.start,
            match s.page_cache {
                PageCache::In => "in",
                PageCache::Out => "out",
            },
            s.residency.resident,
            s.residency.pages,
            s.init.as_nanos() as f64 / 1000.0,
            s.init_major_faults,
            s.init_minor_faults,
            s.first_invoke.as_nanos() as f64 / 1000.0,
            warm_at(0.5),
            warm_at(0.9),
            warm_at(0.99),
            s.warm_ns.len(),
            optional(s.cpu_per_warm_ns),
            optional(s.cpu_clock_per_warm_ns),
            s.peak_rss_kib,
            s.minor_faults,
            csv_field(&binary.path.display().to_string()),
            binary.bytes,
            binary.zip_bytes,
            s.failures
        );
    }
    out
}

/// A panel per figure (init in the page cache, and out of it with `--cold-file`; warm p50 and CPU
/// per warm invocation on log scales; peak RSS), one group of bars per case.
fn chart(run: &Run, path: &Path) -> Drawn {
    use plotters::coord::combinators::IntoLogRange;

    type Metric = (&'static str, fn(&Summary) -> f64, bool);
    let mut metrics: Vec<Metric> = vec![("init p50, in page cache (µs)", |s| s.init_p50, false)];
    if run.cold_file {
        metrics.push((
            "init p50, out of page cache (µs)",
            |s| s.init_cold_p50,
            false,
        ));
    }
    metrics.extend::<[Metric; 3]>([
        ("warm p50 (µs, log scale)", |s| s.warm_p50, true),
        (
            "CPU per warm invocation p50 (µs, log scale)",
            |s| s.cpu_per_warm_p50,
            true,
        ),
        ("peak RSS p50 (MiB)", |s| s.peak_rss_p50_kib / 1024.0, false),
    ]);
    let summaries: Vec<Vec<Summary>> = (0..run.bootstraps.len())
        .map(|b| (0..run.cases.len()).map(|c| run.summary(b, c)).collect())
        .collect();
    let labels: Vec<String> = run
        .cases
        .iter()
        .map(|c| match c.handler {
            "echo" => format!("echo {}", c.payload_label),
            other => other.to_owned(),
        })
        .collect();

    let width = 500 * metrics.len() as u32;
    let title = format!(
        "Cold start and warm invoke: {} starts × {} warm invocations{}",
        run.starts,
        run.warm,
        run.pin
            .map_or(String::new(), |cpu| format!(", pinned to CPU {cpu}"))
    );
    let root = svg(path, (width, 520), &title)?;
    for (panel, (title, value, log)) in root.split_evenly((1, metrics.len())).iter().zip(metrics) {
        let bars = Bars {
            title,
            labels: &labels,
            label_size: 14,
            series: run
                .bootstraps
                .iter()
                .zip(&summaries)
                .map(|(bootstrap, of_cases)| (bootstrap.name, of_cases.iter().map(value).collect()))
                .collect(),
            legend: true,
            y_format: None,
        };
        // NaN (no warm invocations with --warm 0) is left out; an empty panel gets a 1..10 axis.
        let top = bars.values().fold(1.0, f64::max);
        let bottom = bars.values().fold(top, f64::min);
        // Headroom above the tallest bar for the legend.
        let max = top * if log { 3.0 } else { 1.35 };
        let min = bottom / 2.0;
        if log {
            bars.draw(panel, (min..max).log_scale(), min)?;
        } else {
            bars.draw(panel, 0.0..max, 0.0)?;
        }
    }
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::Duration;

    use super::*;
    use crate::bootstraps::Binary;
    use crate::pagecache::Residency;
    use crate::server::Expected;

    fn binary(serves: Option<&'static str>, bytes: u64) -> Binary {
        Binary {
            serves,
            path: PathBuf::from(format!("/bin/{}", serves.unwrap_or("all"))),
            bytes,
            zip_bytes: bytes / 2,
        }
    }

    fn sample(bootstrap: usize, page_cache: PageCache, resident: u64, micros: u64) -> Sample {
        Sample {
            bootstrap,
            case: 0,
            start: 0,
            page_cache,
            residency: Residency {
                resident,
                pages: 200,
            },
            init: Duration::from_micros(micros),
            init_major_faults: micros / 10,
            init_minor_faults: micros / 5,
            first_invoke: Duration::from_micros(micros),
            warm_ns: vec![micros * 100],
            cpu_per_warm_ns: Some(micros as f64 * 50.0),
            cpu_clock_per_warm_ns: Some(micros as f64 * 50.0),
            peak_rss_kib: micros,
            minor_faults: 0,
            failures: 0,
        }
    }

    /// One case (echo 64 B), one start of each bootstrap in the page cache and one out of it;
    /// ours (900) is above every target against the floor (400) and lambda_runtime (500), except
    /// its echo binary; ours' out-of-cache start is spoilt (`resident`) unless `ours_evicted`.
    fn tables(
        judge_targets: bool,
        cold_file: bool,
        pin: Option<usize>,
        ours_evicted: bool,
    ) -> String {
        let bootstraps = vec![
            Bootstrap {
                name: OURS,
                binaries: vec![
                    binary(Some("echo"), 590_000),
                    binary(Some("fibonacci"), 2_000_000),
                ],
            },
            Bootstrap {
                name: OFFICIAL,
                binaries: vec![binary(None, 1_000_000)],
            },
            Bootstrap {
                name: FLOOR,
                binaries: vec![binary(None, 500_000)],
            },
        ];
        let cases = [Case {
            handler: "echo",
            payload_label: "64 B".to_owned(),
            payload: vec![b' '; 64],
            expected: Expected::Bytes(b"{}".to_vec()),
        }];
        let mut samples: Vec<Sample> = [900, 500, 400]
            .into_iter()
            .enumerate()
            .map(|(b, micros)| sample(b, PageCache::In, 200, micros))
            .collect();
        if cold_file {
            samples.push(sample(0, PageCache::Out, u64::from(!ours_evicted), 3000));
            samples.push(sample(1, PageCache::Out, 0, 3000));
            samples.push(sample(2, PageCache::Out, 0, 2000));
        }
        markdown_tables(&Run {
            bootstraps: &bootstraps,
            cases: &cases,
            samples: &samples,
            starts: 1,
            warm: 1,
            pin,
            cold_file,
            judge_targets,
        })
    }

    #[test]
    fn full_run_judges_the_ratios_against_the_targets() {
        let out = tables(true, true, Some(1), true);
        assert!(
            out.contains("| CPU per warm invocation ÷ floor (≤2.0) |"),
            "{out}"
        );
        // CPU 2.25 miss, ÷ lambda_runtime 1.80 not judged, warm 2.25 miss, init 2.25 miss,
        // init out of cache 1.50 miss, RSS 1.80 miss.
        assert!(
            out.contains(
                "| echo | 64 B | 2.25 miss | 1.80 | 2.25 miss | 2.25 miss | 1.50 miss | 1.80 miss |"
            ),
            "{out}"
        );
        assert!(out.contains("this run was pinned to CPU 1."), "{out}");
        assert!(
            out.contains("| init, binary out of page cache, ≤1.2× floor | echo 64 B: 1.50 | missed: echo 64 B |"),
            "{out}"
        );
        assert!(
            out.contains("| echo binary ≤600000 bytes | 590000 bytes (`/bin/echo`) | met |"),
            "{out}"
        );
        // The main table: ours' echo row shows the echo binary, init out of cache and faults.
        assert!(
            out.contains(
                "| lambda-blocking-rt | echo | 64 B | 900 | 3000 | 90 / 180 | 300 / 600 |"
            ),
            "{out}"
        );
        assert!(
            out.contains("| 45.0 | 900 | 590000 | 295000 | 0 |"),
            "{out}"
        );
        for old in ["(≤0.6)", "(≤1.3)", "≤0.75"] {
            assert!(!out.contains(old), "old target {old} in:\n{out}");
        }
    }

    #[test]
    fn out_of_cache_starts_still_resident_are_left_out_and_said_so() {
        let out = tables(true, true, None, false);
        assert!(
            out.contains("| lambda-blocking-rt | echo | 64 B | 900 | – | 90 / 180 | – |"),
            "{out}"
        );
        assert!(
            out.contains("1 start(s) meant to run out of the page cache"),
            "{out}"
        );
        assert!(
            out.contains("| init, binary out of page cache, ≤1.2× floor | – | not measured |"),
            "{out}"
        );
        assert!(out.contains("this run was not pinned"), "{out}");
    }

    #[test]
    fn without_cold_file_the_out_of_cache_target_asks_for_it() {
        let out = tables(true, false, Some(0), true);
        assert!(
            out.contains("| – | not measured: run with `--cold-file` |"),
            "{out}"
        );
        assert!(
            out.contains("Out of page cache: not measured (`--cold-file`)."),
            "{out}"
        );
    }

    #[test]
    fn quick_run_prints_figures_and_ratios_without_targets_or_marks() {
        let out = tables(false, false, None, true);
        assert!(
            out.contains("| echo | 64 B | 2.25 | 1.80 | 2.25 | 2.25 | – | 1.80 |"),
            "{out}"
        );
        assert!(
            out.contains("Binary of echo: lambda-blocking-rt ÷ lambda_runtime = 0.59; zip 0.59."),
            "{out}"
        );
        for judged in ["miss", "≤", "target in brackets", "met", "Targets"] {
            assert!(
                !out.contains(judged),
                "{judged:?} in a quick run's tables:\n{out}"
            );
        }
    }

    #[test]
    fn a_miss_is_never_rounded_onto_its_target() {
        assert_eq!(ratio(0.7036, Some(0.7)), "0.704 miss");
        assert_eq!(ratio(0.7, Some(0.7)), "0.70");
        assert_eq!(ratio(0.6951, Some(0.7)), "0.70");
        assert_eq!(ratio(2.43, Some(2.0)), "2.43 miss");
        assert_eq!(ratio(0.7036, None), "0.70");
        assert_eq!(ratio(f64::NAN, Some(1.0)), "–");
    }

    #[test]
    fn binaries_measured_are_named_with_their_sizes() {
        let out = tables(false, false, None, true);
        assert!(
            out.contains("- lambda-blocking-rt (echo, as shipped: serves only it): `/bin/echo`, 590000 bytes, zip 295000 bytes"),
            "{out}"
        );
        assert!(
            out.contains(
                "- lambda_runtime (every handler, chosen by `_HANDLER`): `/bin/all`, 1000000 bytes"
            ),
            "{out}"
        );
    }

    #[test]
    fn csv_has_a_row_per_start_with_cpu_and_page_cache() {
        let bootstraps = vec![Bootstrap {
            name: OURS,
            binaries: vec![Binary {
                path: PathBuf::from("/a,b/bootstrap"),
                ..binary(None, 10)
            }],
        }];
        let cases = [Case {
            handler: "echo",
            payload_label: "64 B".to_owned(),
            payload: vec![b' '; 64],
            expected: Expected::Bytes(b"{}".to_vec()),
        }];
        let samples = [
            sample(0, PageCache::In, 200, 900),
            Sample {
                warm_ns: Vec::new(),
                cpu_per_warm_ns: None,
                cpu_clock_per_warm_ns: None,
                ..sample(0, PageCache::Out, 0, 3000)
            },
        ];
        let csv = csv_rows(&Run {
            bootstraps: &bootstraps,
            cases: &cases,
            samples: &samples,
            starts: 1,
            warm: 1,
            pin: None,
            cold_file: true,
            judge_targets: true,
        });
        let lines: Vec<&str> = csv.lines().collect();
        let columns = lines[0].split(',').count();
        assert_eq!(lines.len(), 3, "{csv}");
        assert_eq!(
            lines[1],
            "lambda-blocking-rt,echo,64,0,in,200,200,900.0,90,180,900.0,90.0,90.0,90.0,1,45000,45000,900,0,\"/a,b/bootstrap\",10,5,0"
        );
        assert_eq!(
            lines[2],
            "lambda-blocking-rt,echo,64,0,out,0,200,3000.0,300,600,3000.0,,,,0,,,3000,0,\"/a,b/bootstrap\",10,5,0"
        );
        // Every row as many fields as the header (the quoted path counts once).
        for line in &lines[1..] {
            assert_eq!(
                line.replace("\"/a,b/bootstrap\"", "x").split(',').count(),
                columns
            );
        }
    }
}
