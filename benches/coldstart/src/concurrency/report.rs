//! The concurrency benchmark's results: a markdown table with the ratios against the goal, a CSV
//! of every process measured, and an SVG chart.

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use bench_support::chart::{Bars, COLORS, Drawn, svg, text_at};
use bench_support::report::{machine, utc_now, write_files};
use bench_support::stats::{median, percentile};

use super::{Case, RUNTIMES, SLEEP_MS, Sample};
use crate::bootstraps::{OFFICIAL, OURS};

/// The goal: at least the official runtime's throughput at no more than half its RSS.
const THROUGHPUT_GOAL: f64 = 1.0;
const RSS_GOAL: f64 = 0.5;

/// Everything one run produced.
pub struct Run<'a> {
    pub cases: &'a [Case],
    pub samples: &'a [Sample],
    pub rounds: u32,
    /// A CI run: figures only, no goal marks.
    pub quick: bool,
    /// Which binary of ours ran, said in the report.
    pub ours_binary: String,
}

/// One runtime × case: medians over its rounds.
struct Summary {
    throughput: f64,
    cpu_us: f64,
    peak_rss_kib: f64,
    round_trip_p50_ms: f64,
    threads: f64,
    failures: u32,
}

/// ours ÷ official for one case.
struct Ratios {
    throughput: f64,
    peak_rss: f64,
    cpu: f64,
}

impl Ratios {
    /// What the goal misses here; empty when it is met.
    fn missed(&self) -> Vec<&'static str> {
        let mut missed = Vec::new();
        if self.throughput.is_nan() || self.throughput < THROUGHPUT_GOAL {
            missed.push("throughput");
        }
        if self.peak_rss.is_nan() || self.peak_rss > RSS_GOAL {
            missed.push("RSS");
        }
        missed
    }
}

impl Run<'_> {
    fn samples_of(&self, runtime: usize, case: usize) -> impl Iterator<Item = &Sample> {
        self.samples
            .iter()
            .filter(move |s| s.runtime == runtime && s.case == case)
    }

    fn summary(&self, runtime: usize, case: usize) -> Summary {
        let of = |f: fn(&Sample) -> f64| median(self.samples_of(runtime, case).map(f).collect());
        Summary {
            throughput: of(Sample::throughput),
            cpu_us: of(Sample::cpu_per_invocation_us),
            peak_rss_kib: of(|s| s.peak_rss_kib as f64),
            round_trip_p50_ms: of(|s| {
                percentile(&s.round_trip_ns, 0.5).map_or(f64::NAN, |ns| ns as f64 / 1e6)
            }),
            threads: of(|s| f64::from(s.threads)),
            failures: self.samples_of(runtime, case).map(|s| s.failures).sum(),
        }
    }

    fn ratios(&self, case: usize) -> Ratios {
        let (ours, official) = (self.summary(0, case), self.summary(1, case));
        Ratios {
            throughput: ours.throughput / official.throughput,
            peak_rss: ours.peak_rss_kib / official.peak_rss_kib,
            cpu: ours.cpu_us / official.cpu_us,
        }
    }
}

/// Writes `concurrency.md`, `concurrency.csv` and `concurrency.svg` into `dir`.
pub fn write_all(run: &Run, dir: &Path) -> io::Result<Vec<PathBuf>> {
    write_files(dir, "concurrency", &markdown(run), &csv_rows(run), |svg| {
        chart(run, svg)
    })
}

fn markdown(run: &Run) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Concurrency benchmark results (Lambda Managed Instances)\n"
    );
    let batches: Vec<String> = run
        .cases
        .iter()
        .map(|c| format!("{} N={}: {}", c.handler, c.workers, c.invocations))
        .collect();
    let _ = writeln!(
        out,
        "{} UTC; {}; not pinned. {} rounds, each a fresh process per runtime × handler × N \
         (`AWS_LAMBDA_MAX_CONCURRENCY` = N), the two runtimes back to back in alternating \
         order. Per process: {} invocations per worker to warm up, then one batch released at \
         once (invocations: {}). echo: a 64 B JSON event; sleep: `{{\"ms\":{SLEEP_MS}}}`. \
         lambda-blocking-rt: {}; lambda_runtime: `benches/official`'s `concurrent` \
         (`run_concurrent`).\n",
        utc_now(),
        machine(),
        run.rounds,
        super::WARMUP_PER_WORKER,
        batches.join(", "),
        run.ours_binary,
    );
    let _ = writeln!(
        out,
        "Throughput: the batch's invocations ÷ (its release → its last answer). CPU per \
         invocation: the process's CPU time over the batch (CPU clock of all its threads; \
         `utime`+`stime` in ticks is in the CSV as a cross-check) ÷ invocations. Peak RSS: \
         `VmHWM` at the end. Values are medians over the rounds.\n"
    );
    out.push_str(&markdown_tables(run));
    let _ = writeln!(
        out,
        "\nRaw numbers, one row per process: `concurrency.csv`. Chart: `concurrency.svg`."
    );
    out
}

/// The results table and the ratio table, as printed at the end of a run.
pub fn markdown_tables(run: &Run) -> String {
    let mut out = String::new();
    out.push_str(
        "| runtime | handler | N | throughput (inv/s) | CPU per invocation (µs) \
         | peak RSS (KiB) | round trip p50 (ms) | threads | failures |\n",
    );
    out.push_str("|---|---|--:|--:|--:|--:|--:|--:|--:|\n");
    for (c, case) in run.cases.iter().enumerate() {
        for (r, runtime) in RUNTIMES.iter().enumerate() {
            let s = run.summary(r, c);
            let _ = writeln!(
                out,
                "| {runtime} | {} | {} | {:.0} | {:.1} | {:.0} | {:.3} | {:.0} | {} |",
                case.handler,
                case.workers,
                s.throughput,
                s.cpu_us,
                s.peak_rss_kib,
                s.round_trip_p50_ms,
                s.threads,
                s.failures,
            );
        }
    }

    let _ = writeln!(
        out,
        "\nRatios {OURS} ÷ {OFFICIAL} (medians of this run{}):\n",
        if run.quick {
            "; a quick run, too short to judge the goal by"
        } else {
            "; goal: throughput ≥1.0× at peak RSS ≤0.5×"
        }
    );
    if run.quick {
        out.push_str("| handler | N | throughput | peak RSS | CPU per invocation |\n");
        out.push_str("|---|--:|--:|--:|--:|\n");
    } else {
        out.push_str(
            "| handler | N | throughput (≥1.0) | peak RSS (≤0.5) | CPU per invocation | goal |\n",
        );
        out.push_str("|---|--:|--:|--:|--:|---|\n");
    }
    let mut met = 0;
    for (c, case) in run.cases.iter().enumerate() {
        let r = run.ratios(c);
        let _ = write!(
            out,
            "| {} | {} | {:.2} | {:.2} | {:.2} |",
            case.handler, case.workers, r.throughput, r.peak_rss, r.cpu
        );
        if !run.quick {
            let missed = r.missed();
            if missed.is_empty() {
                met += 1;
                out.push_str(" met |");
            } else {
                let _ = write!(out, " missed: {} |", missed.join(", "));
            }
        }
        out.push('\n');
    }
    if !run.quick {
        let _ = writeln!(out, "\nGoal met in {met} of {} cases.", run.cases.len());
    }

    // What each worker adds to the peak RSS: (RSS at the largest N − RSS at N = 1) ÷ (N − 1).
    let mut per_worker = Vec::new();
    for handler in super::HANDLERS {
        let of = |workers: u32| {
            run.cases
                .iter()
                .position(|c| c.handler == handler && c.workers == workers)
        };
        let largest = run
            .cases
            .iter()
            .filter(|c| c.handler == handler)
            .map(|c| c.workers)
            .max();
        let (Some(largest), Some(one)) = (largest, of(1)) else {
            continue;
        };
        let (Some(most), true) = (of(largest), largest > 1) else {
            continue;
        };
        for (r, runtime) in RUNTIMES.iter().enumerate() {
            let (at_most, at_one) = (
                run.summary(r, most).peak_rss_kib,
                run.summary(r, one).peak_rss_kib,
            );
            per_worker.push(format!(
                "{runtime} {handler} {at_most:.0} KiB at N={largest}, {:.1} KiB per worker",
                (at_most - at_one) / f64::from(largest - 1)
            ));
        }
    }
    if !per_worker.is_empty() {
        let _ = writeln!(
            out,
            "\nPeak RSS at the largest N, and what each worker adds to it ((RSS at N − RSS at \
             N=1) ÷ (N − 1)): {}.",
            per_worker.join("; ")
        );
    }

    let ceilings: Vec<String> = run
        .cases
        .iter()
        .filter(|c| c.handler == "sleep")
        .map(|c| format!("{:.0}", f64::from(c.workers) * 1000.0 / SLEEP_MS as f64))
        .collect();
    if !ceilings.is_empty() {
        let _ = writeln!(
            out,
            "\nsleep's ceiling, N ÷ {SLEEP_MS} ms: {} invocations/s.",
            ceilings.join(", ")
        );
    }
    out
}

fn csv_rows(run: &Run) -> String {
    let tick_us = 1e6 / crate::procfs::ticks_per_second() as f64;
    let mut out = String::from(
        "round,runtime,handler,workers,invocations,ready_ms,wall_ms,throughput_per_s,cpu_us,\
         cpu_us_per_invocation,cpu_ticks,cpu_ticks_us_per_invocation,\
         context_switches_per_invocation,peak_rss_kib,\
         rss_anon_kib,rss_file_kib,threads,max_in_flight,round_trip_p50_us,round_trip_p99_us,\
         failures\n",
    );
    for s in run.samples {
        let case = &run.cases[s.case];
        let round_trip_at =
            |p| percentile(&s.round_trip_ns, p).map_or(f64::NAN, |ns| ns as f64 / 1e3);
        let _ = writeln!(
            out,
            "{},{},{},{},{},{:.3},{:.3},{:.1},{:.0},{:.2},{},{:.2},{:.2},{},{},{},{},{},{:.1},{:.1},{}",
            s.round,
            RUNTIMES[s.runtime],
            case.handler,
            case.workers,
            s.invocations,
            s.ready.as_secs_f64() * 1e3,
            s.wall.as_secs_f64() * 1e3,
            s.throughput(),
            s.cpu.as_secs_f64() * 1e6,
            s.cpu_per_invocation_us(),
            s.cpu_ticks,
            s.cpu_ticks as f64 * tick_us / f64::from(s.invocations),
            s.context_switches as f64 / f64::from(s.invocations),
            s.peak_rss_kib,
            s.rss_anon_kib,
            s.rss_file_kib,
            s.threads,
            s.max_in_flight,
            round_trip_at(0.5),
            round_trip_at(0.99),
            s.failures,
        );
    }
    out
}

/// Three panels (throughput on a log scale, CPU per invocation, peak RSS), a group of two bars
/// per handler × N, the ratio ours ÷ official written above each group.
fn chart(run: &Run, path: &Path) -> Drawn {
    use plotters::coord::combinators::IntoLogRange;
    use plotters::prelude::*;

    let summaries: Vec<Vec<Summary>> = (0..RUNTIMES.len())
        .map(|r| (0..run.cases.len()).map(|c| run.summary(r, c)).collect())
        .collect();
    let title = format!(
        "Concurrent invocations (AWS_LAMBDA_MAX_CONCURRENCY = N): medians of {} rounds",
        run.rounds
    );
    let root = svg(path, (1500, 540), &title)?;
    // One legend for the three panels, under the title.
    let (legend, body) = root.split_vertically(28);
    let middle = legend.dim_in_pixel().0 as i32 / 2;
    for (r, name) in RUNTIMES.iter().enumerate() {
        let x = middle - 170 + 200 * r as i32;
        legend.draw(&Rectangle::new([(x, 8), (x + 14, 22)], COLORS[r].filled()))?;
        legend.draw(&Text::new(*name, (x + 20, 7), ("sans-serif", 16)))?;
    }
    let panels = body.split_evenly((1, 3));
    let labels: Vec<String> = run
        .cases
        .iter()
        .map(|case| format!("{} N={}", case.handler, case.workers))
        .collect();
    type Metric = fn(&Summary) -> f64;
    let metrics: [(&str, Metric); 3] = [
        ("throughput (invocations/s, log scale)", |s| s.throughput),
        ("CPU per invocation (µs)", |s| s.cpu_us),
        ("peak RSS (MiB)", |s| s.peak_rss_kib / 1024.0),
    ];
    for (i, (title, value)) in metrics.into_iter().enumerate() {
        let bars = Bars {
            title,
            labels: &labels,
            label_size: 13,
            series: RUNTIMES
                .iter()
                .zip(&summaries)
                .map(|(name, of_cases)| (*name, of_cases.iter().map(value).collect()))
                .collect(),
            legend: false,
            y_format: None,
        };
        let top = bars.values().fold(1e-3, f64::max);
        let area = &panels[i];
        // ours ÷ official above each group.
        let ratios = |at: &dyn Fn(f64, f64) -> (i32, i32)| -> Drawn {
            for c in 0..labels.len() {
                let (ours, official) = (bars.series[0].1[c], bars.series[1].1[c]);
                let ratio = ours / official;
                if ratio.is_finite() {
                    text_at(
                        area,
                        &format!("×{ratio:.2}"),
                        at(c as f64 + 0.5, ours.max(official)),
                        -18,
                        12,
                    )?;
                }
            }
            Ok(())
        };
        if i == 0 {
            let bottom = bars.values().fold(top, f64::min);
            let floor = bottom / 2.0;
            let chart = bars.draw(area, (floor..top * 4.0).log_scale(), floor)?;
            ratios(&|x, y| chart.backend_coord(&(x, y)))?;
        } else {
            let chart = bars.draw(area, 0.0..top * 1.15, 0.0)?;
            ratios(&|x, y| chart.backend_coord(&(x, y)))?;
        }
    }
    root.present()?;
    Ok(())
}
