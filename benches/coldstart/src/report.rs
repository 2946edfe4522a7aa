//! The results, written three ways: a markdown table (with the ratios, set against the targets
//! in a full run), a CSV of every cold start, and an SVG chart.

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use crate::bootstraps::{Bootstrap, FLOOR, OFFICIAL, OURS};
use crate::{Case, Sample};

/// Everything one run produced.
pub struct Run<'a> {
    pub bootstraps: &'a [Bootstrap],
    pub cases: &'a [Case],
    pub samples: &'a [Sample],
    pub starts: u32,
    pub warm: u32,
    /// The CPU everything ran on, if pinned.
    pub pin: Option<usize>,
    /// Whether the ratios are judged against the targets (`miss` marks, target columns). A quick
    /// run has too few starts to judge them: it prints the figures and ratios alone.
    pub judge_targets: bool,
}

/// One bootstrap × case, over all its starts. Times in microseconds.
struct Summary {
    init_p50: f64,
    first_invoke_p50: f64,
    warm_p50: f64,
    warm_p90: f64,
    warm_p99: f64,
    peak_rss_p50_kib: f64,
    failures: u32,
}

/// Nearest-rank percentile of sorted values.
pub fn percentile<T: Copy>(sorted: &[T], p: f64) -> Option<T> {
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len().max(1));
    sorted.get(rank - 1).copied()
}

pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    percentile(&values, 0.5).unwrap_or(f64::NAN)
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

    /// Init, first invoke and RSS are medians over starts; the warm percentiles pool every warm
    /// invocation of every start.
    fn summary(&self, bootstrap: usize, case: usize) -> Summary {
        let of = |f: fn(&Sample) -> f64| median(self.samples_of(bootstrap, case).map(f).collect());
        let mut warm: Vec<u64> = self
            .samples_of(bootstrap, case)
            .flat_map(|s| s.warm_ns.iter().copied())
            .collect();
        warm.sort_unstable();
        let warm_at = |p| percentile(&warm, p).map_or(f64::NAN, micros);
        Summary {
            init_p50: of(|s| s.init.as_nanos() as f64 / 1000.0),
            first_invoke_p50: of(|s| s.first_invoke.as_nanos() as f64 / 1000.0),
            warm_p50: warm_at(0.5),
            warm_p90: warm_at(0.9),
            warm_p99: warm_at(0.99),
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
    std::fs::create_dir_all(dir)?;
    let md = dir.join("coldstart.md");
    let csv = dir.join("coldstart.csv");
    let svg = dir.join("coldstart.svg");
    std::fs::write(&md, markdown(run))?;
    std::fs::write(&csv, csv_rows(run))?;
    chart(run, &svg).map_err(|e| io::Error::other(format!("drawing {}: {e}", svg.display())))?;
    Ok(vec![md, csv, svg])
}

fn markdown(run: &Run) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Cold-start benchmark results\n");
    let _ = writeln!(
        out,
        "{} UTC; {} cold starts per bootstrap × handler × payload, {} warm invocations each; \
         {}; {}.\n",
        utc_now(),
        run.starts,
        run.warm,
        machine(),
        match run.pin {
            Some(cpu) => format!("harness and bootstraps pinned to CPU {cpu}"),
            None => "not pinned: harness and bootstrap on any CPU".to_owned(),
        }
    );
    out.push_str(&markdown_tables(run));
    let _ = writeln!(
        out,
        "\nRaw numbers, one row per cold start: `coldstart.csv`. Chart: `coldstart.svg`."
    );
    out
}

/// The results table and the ratio table, as printed at the end of a run.
pub fn markdown_tables(run: &Run) -> String {
    let mut out = String::new();
    out.push_str(
        "| bootstrap | handler | payload | init p50 (µs) | first invoke p50 (µs) \
         | warm p50 (µs) | warm p90 (µs) | warm p99 (µs) | peak RSS p50 (KiB) \
         | binary (bytes) | zip (bytes) | failures |\n",
    );
    out.push_str("|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    for (c, case) in run.cases.iter().enumerate() {
        for (b, bootstrap) in run.bootstraps.iter().enumerate() {
            let s = run.summary(b, c);
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:.0} | {:.1} | {:.1} | {:.1} | {:.1} | {:.0} | {} | {} | {} |",
                bootstrap.name,
                case.handler,
                case.payload_label.replace('|', "\\|"),
                s.init_p50,
                s.first_invoke_p50,
                s.warm_p50,
                s.warm_p90,
                s.warm_p99,
                s.peak_rss_p50_kib,
                bootstrap.binary_bytes,
                bootstrap.zip_bytes,
                s.failures
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
            "| handler | payload | init ÷ {OFFICIAL} (≤0.6) | init ÷ {FLOOR} (≤1.2) \
             | warm p50 ÷ {OFFICIAL} (≤0.6) | warm p50 ÷ {FLOOR} (≤1.3) \
             | peak RSS ÷ {OFFICIAL} (≤0.7) |\n"
        ));
    } else {
        let _ = writeln!(
            out,
            "\nRatios of {OURS} to the references (medians of this run; too few starts to \
             judge the targets: the full run does):\n"
        );
        out.push_str(&format!(
            "| handler | payload | init ÷ {OFFICIAL} | init ÷ {FLOOR} \
             | warm p50 ÷ {OFFICIAL} | warm p50 ÷ {FLOOR} | peak RSS ÷ {OFFICIAL} |\n"
        ));
    }
    // The target a ratio is judged against, or none in a quick run.
    let target = |t: f64| run.judge_targets.then_some(t);
    out.push_str("|---|---|--:|--:|--:|--:|--:|\n");
    for (c, case) in run.cases.iter().enumerate() {
        let (o, r, f) = (
            run.summary(ours, c),
            run.summary(official, c),
            run.summary(floor, c),
        );
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            case.handler,
            case.payload_label.replace('|', "\\|"),
            ratio(o.init_p50, r.init_p50, target(0.6)),
            ratio(o.init_p50, f.init_p50, target(1.2)),
            ratio(o.warm_p50, r.warm_p50, target(0.6)),
            ratio(o.warm_p50, f.warm_p50, target(1.3)),
            ratio(o.peak_rss_p50_kib, r.peak_rss_p50_kib, target(0.7)),
        );
    }
    let (ours, official) = (&run.bootstraps[ours], &run.bootstraps[official]);
    let binary = ratio(
        ours.binary_bytes as f64,
        official.binary_bytes as f64,
        target(0.75),
    );
    let zip = ratio(
        ours.zip_bytes as f64,
        official.zip_bytes as f64,
        target(0.75),
    );
    if run.judge_targets {
        let _ = writeln!(
            out,
            "\nBinary size: {} ÷ {} = {} (target ≤0.75; stretch ≤600 KB: {} bytes {}). \
             Zip: {}.",
            OURS,
            OFFICIAL,
            binary,
            ours.binary_bytes,
            if ours.binary_bytes <= 600_000 {
                "ok"
            } else {
                "miss"
            },
            zip,
        );
    } else {
        let _ = writeln!(
            out,
            "\nBinary size: {OURS} ÷ {OFFICIAL} = {binary} ({} bytes). Zip: {zip}.",
            ours.binary_bytes,
        );
    }
    out
}

/// `value ÷ reference` to two places, with ` miss` when a target is given and not met.
fn ratio(value: f64, reference: f64, target: Option<f64>) -> String {
    let r = value / reference;
    match target {
        _ if !r.is_finite() => "n/a".to_owned(),
        Some(target) if r > target => format!("{r:.2} miss"),
        _ => format!("{r:.2}"),
    }
}

fn csv_rows(run: &Run) -> String {
    let mut out = String::from(
        "bootstrap,handler,payload_bytes,start,init_us,first_invoke_us,warm_p50_us,\
         warm_p90_us,warm_p99_us,warm_count,peak_rss_kib,minor_faults,binary_bytes,zip_bytes,\
         failures\n",
    );
    for s in run.samples {
        let (bootstrap, case) = (&run.bootstraps[s.bootstrap], &run.cases[s.case]);
        let warm_at = |p| percentile(&s.warm_ns, p).map_or(f64::NAN, micros);
        let _ = writeln!(
            out,
            "{},{},{},{},{:.1},{:.1},{:.1},{:.1},{:.1},{},{},{},{},{},{}",
            bootstrap.name,
            case.handler,
            case.payload.len(),
            s.start,
            s.init.as_nanos() as f64 / 1000.0,
            s.first_invoke.as_nanos() as f64 / 1000.0,
            warm_at(0.5),
            warm_at(0.9),
            warm_at(0.99),
            s.warm_ns.len(),
            s.peak_rss_kib,
            s.minor_faults,
            bootstrap.binary_bytes,
            bootstrap.zip_bytes,
            s.failures
        );
    }
    out
}

/// Three panels (init, warm p50 on a log scale, peak RSS), one group of bars per case.
fn chart(run: &Run, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    use plotters::coord::combinators::IntoLogRange;
    use plotters::prelude::*;
    use plotters::style::text_anchor::{HPos, Pos, VPos};

    const COLORS: [RGBColor; 3] = [
        RGBColor(0x1f, 0x77, 0xb4),
        RGBColor(0xff, 0x7f, 0x0e),
        RGBColor(0x7f, 0x7f, 0x7f),
    ];
    type Metric = (&'static str, fn(&Summary) -> f64, bool);
    let metrics: [Metric; 3] = [
        ("init p50 (µs)", |s| s.init_p50, false),
        ("warm p50 (µs, log scale)", |s| s.warm_p50, true),
        ("peak RSS p50 (MiB)", |s| s.peak_rss_p50_kib / 1024.0, false),
    ];
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
    let bar_width = 0.8 / run.bootstraps.len() as f64;

    let full = SVGBackend::new(path, (1500, 520)).into_drawing_area();
    full.fill(&WHITE)?;
    let root = full.titled(
        &format!(
            "Cold start and warm invoke: {} starts × {} warm invocations{}",
            run.starts,
            run.warm,
            run.pin
                .map_or(String::new(), |cpu| format!(", pinned to CPU {cpu}"))
        ),
        ("sans-serif", 22),
    )?;
    for (panel, (title, value, log)) in root.split_evenly((1, 3)).iter().zip(metrics) {
        // NaN (no warm invocations with --warm 0) is left out; an empty panel gets a 1..10 axis.
        let values: Vec<f64> = summaries
            .iter()
            .flatten()
            .map(value)
            .filter(|v| v.is_finite() && *v > 0.0)
            .collect();
        let top = values.iter().copied().fold(1.0, f64::max);
        let bottom = values.iter().copied().fold(top, f64::min);
        // Headroom above the tallest bar for the legend.
        let max = top * if log { 3.0 } else { 1.35 };
        let min = bottom / 2.0;
        let x = 0.0..run.cases.len() as f64;
        let mut builder = ChartBuilder::on(panel);
        builder
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(60);
        // The cases are named under their groups by hand: an f64 axis puts its ticks anywhere.
        let no_label = |_: &f64| String::new();
        let label_style = ("sans-serif", 14)
            .into_font()
            .into_text_style(&full)
            .pos(Pos::new(HPos::Center, VPos::Top));
        let bar = |b: usize, c: usize, bottom: f64, top: f64| {
            let top = if top.is_finite() { top } else { bottom };
            let left = c as f64 + 0.1 + b as f64 * bar_width;
            Rectangle::new(
                [(left, bottom), (left + bar_width * 0.9, top)],
                COLORS[b % 3].filled(),
            )
        };
        // Two arms because a log axis and a linear one are different types.
        if log {
            let mut chart = builder.build_cartesian_2d(x, (min..max).log_scale())?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_label_formatter(&no_label)
                .draw()?;
            for (c, text) in labels.iter().enumerate() {
                let at = chart.backend_coord(&(c as f64 + 0.5, min));
                full.draw(&Text::new(
                    text.as_str(),
                    (at.0, at.1 + 6),
                    label_style.clone(),
                ))?;
            }
            for (b, bootstrap) in run.bootstraps.iter().enumerate() {
                let bars = (0..run.cases.len()).map(|c| bar(b, c, min, value(&summaries[b][c])));
                chart
                    .draw_series(bars)?
                    .label(bootstrap.name)
                    .legend(move |(x, y)| {
                        Rectangle::new([(x, y - 5), (x + 10, y + 5)], COLORS[b % 3].filled())
                    });
            }
            chart
                .configure_series_labels()
                .border_style(BLACK)
                .background_style(WHITE)
                .position(SeriesLabelPosition::UpperLeft)
                .draw()?;
        } else {
            let mut chart = builder.build_cartesian_2d(x, 0.0..max)?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_label_formatter(&no_label)
                .draw()?;
            for (c, text) in labels.iter().enumerate() {
                let at = chart.backend_coord(&(c as f64 + 0.5, 0.0));
                full.draw(&Text::new(
                    text.as_str(),
                    (at.0, at.1 + 6),
                    label_style.clone(),
                ))?;
            }
            for (b, bootstrap) in run.bootstraps.iter().enumerate() {
                let bars = (0..run.cases.len()).map(|c| bar(b, c, 0.0, value(&summaries[b][c])));
                chart
                    .draw_series(bars)?
                    .label(bootstrap.name)
                    .legend(move |(x, y)| {
                        Rectangle::new([(x, y - 5), (x + 10, y + 5)], COLORS[b % 3].filled())
                    });
            }
            chart
                .configure_series_labels()
                .border_style(BLACK)
                .background_style(WHITE)
                .position(SeriesLabelPosition::UpperLeft)
                .draw()?;
        }
    }
    root.present()?;
    Ok(())
}

/// `/proc/cpuinfo`'s model name and the CPU count, for the table's heading.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{cpus} × {cpu}, Linux {}", kernel.trim())
}

/// The current time as `2026-11-22 23:04`.
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // Days → civil date (H. Hinnant's algorithm).
    let z = (secs / 86_400) as i64 + 719_468;
    let (era, doe) = (z.div_euclid(146_097), z.rem_euclid(146_097));
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let rem = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}",
        rem / 3600,
        rem / 60 % 60
    )
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::Duration;

    use super::*;
    use crate::server::Expected;

    /// One case, one start of each bootstrap; ours is well above every target.
    fn tables(judge_targets: bool) -> String {
        let bootstraps: Vec<Bootstrap> =
            [(OURS, 2_000_000), (OFFICIAL, 1_000_000), (FLOOR, 500_000)]
                .into_iter()
                .map(|(name, bytes)| Bootstrap {
                    name,
                    path: PathBuf::new(),
                    binary_bytes: bytes,
                    zip_bytes: bytes / 2,
                })
                .collect();
        let cases = [Case {
            handler: "echo",
            payload_label: "64 B".to_owned(),
            payload: b"{}".to_vec(),
            expected: Expected::Bytes(b"{}".to_vec()),
        }];
        let samples: Vec<Sample> = [900, 500, 400]
            .into_iter()
            .enumerate()
            .map(|(bootstrap, micros)| Sample {
                bootstrap,
                case: 0,
                start: 0,
                init: Duration::from_micros(micros),
                first_invoke: Duration::from_micros(micros),
                warm_ns: vec![micros * 1000],
                peak_rss_kib: micros,
                minor_faults: 0,
                failures: 0,
            })
            .collect();
        markdown_tables(&Run {
            bootstraps: &bootstraps,
            cases: &cases,
            samples: &samples,
            starts: 1,
            warm: 1,
            pin: None,
            judge_targets,
        })
    }

    #[test]
    fn full_run_judges_the_ratios_against_the_targets() {
        let out = tables(true);
        assert!(out.contains("| init ÷ lambda_runtime (≤0.6) |"), "{out}");
        assert!(
            out.contains("| echo | 64 B | 1.80 miss | 2.25 miss |"),
            "{out}"
        );
        assert!(
            out.contains("= 2.00 miss (target ≤0.75; stretch ≤600 KB"),
            "{out}"
        );
    }

    #[test]
    fn quick_run_prints_figures_and_ratios_without_targets_or_marks() {
        let out = tables(false);
        assert!(out.contains("| echo | 64 B | 1.80 | 2.25 |"), "{out}");
        assert!(
            out.contains("lambda-blocking-rt ÷ lambda_runtime = 2.00 (2000000 bytes). Zip: 2.00."),
            "{out}"
        );
        for judged in ["miss", "≤", "target in brackets", " ok"] {
            assert!(
                !out.contains(judged),
                "{judged:?} in a quick run's tables:\n{out}"
            );
        }
    }
}
