//! The results, written three ways: markdown tables (figures, ratios, what went over the wire),
//! a CSV of every invocation, and an SVG chart.

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bench_support::chart::{Bars, Drawn, svg};
use bench_support::report::{machine, utc_now, write_files};
use bench_support::stats;

use crate::check::{ERROR_BODY_TRAILER, ERROR_TYPE_TRAILER, HTTP_INTEGRATION, base64_decode};
use crate::functions::{OFFICIAL, OURS, Response};
use crate::server::Record;
use crate::{RUNTIMES, Run, Sample};

/// One function's warm invocations. Times in microseconds.
struct Summary {
    head_p50: f64,
    ttfb_p50: f64,
    ttfb_p90: f64,
    total_p50: f64,
    total_p90: f64,
    failures: usize,
}

/// Nearest-rank percentile of sorted values; NaN when there are none.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    stats::percentile(sorted, p).unwrap_or(f64::NAN)
}

fn micros(d: Duration) -> f64 {
    d.as_nanos() as f64 / 1000.0
}

impl Run {
    fn warm(&self, function: usize) -> impl Iterator<Item = &Sample> {
        self.samples
            .iter()
            .filter(move |s| s.function == function && s.round > 0)
    }

    fn summary(&self, function: usize) -> Summary {
        let sorted = |f: fn(&Sample) -> Option<Duration>| {
            let mut v: Vec<f64> = self.warm(function).filter_map(f).map(micros).collect();
            v.sort_by(f64::total_cmp);
            v
        };
        let head = sorted(|s| Some(s.head));
        let ttfb = sorted(|s| s.ttfb);
        let total = sorted(|s| Some(s.total));
        Summary {
            head_p50: percentile(&head, 0.5),
            ttfb_p50: percentile(&ttfb, 0.5),
            ttfb_p90: percentile(&ttfb, 0.9),
            total_p50: percentile(&total, 0.5),
            total_p90: percentile(&total, 0.9),
            failures: self.warm(function).filter(|s| s.problem.is_some()).count()
                + self
                    .samples
                    .iter()
                    .filter(|s| s.function == function && s.round == 0 && s.problem.is_some())
                    .count(),
        }
    }

    fn index_of(&self, runtime: &str, response: Response) -> Option<usize> {
        self.functions
            .iter()
            .position(|f| f.runtime == runtime && f.response == response)
    }
}

/// Writes `streaming.md`, `streaming.csv` and `streaming.svg` into `dir`.
pub fn write_all(run: &Run, dir: &Path) -> io::Result<Vec<PathBuf>> {
    write_files(dir, "streaming", &markdown(run), &csv(run), |svg| {
        chart(run, svg)
    })
}

fn ratio(a: f64, b: f64) -> String {
    if a.is_finite() && b.is_finite() && b > 0.0 {
        format!("{:.2}", a / b)
    } else {
        "–".to_owned()
    }
}

fn us(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.0}")
    } else {
        "–".to_owned()
    }
}

/// The tables, as the README quotes them.
pub fn markdown(run: &Run) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## Response streaming: 1 MiB in 16 pieces of 64 KiB{}\n",
        if run.quick { " (quick run)" } else { "" }
    );
    let _ = writeln!(
        out,
        "{} warm invocations per function after one warm-up, the six functions invoked in turn \
         (A B C D E F A B …); {}; {} UTC. Times in µs from the instant the `/next` answer is \
         written: TTFB to the first payload byte read (after the prelude, where there is one), \
         total to the end of the body (last chunk and trailers).\n",
        run.rounds,
        machine(),
        utc_now()
    );
    out.push_str(
        "| runtime | response | written with | POST head p50 | TTFB p50 | TTFB p90 | total p50 | \
         total p90 | CPU per invocation | minor faults per invocation | chunks on the wire | \
         failures |\n|---|---|---|--:|--:|--:|--:|--:|--:|--:|---|--:|\n",
    );
    for (i, function) in run.functions.iter().enumerate() {
        let s = run.summary(i);
        let chunks = run.first_warm[i]
            .as_ref()
            .map_or_else(|| "–".to_owned(), chunk_summary);
        let (cpu, faults) = run.costs[i].map_or(("–".to_owned(), "–".to_owned()), |c| {
            let cpu = c.cpu_us.map_or("–".to_owned(), |us| format!("{us:.0}"));
            (cpu, format!("{:.1}", c.minor_faults))
        });
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {cpu} | {faults} | {} | {} |",
            function.runtime,
            function.response.label(),
            function.api,
            us(s.head_p50),
            us(s.ttfb_p50),
            us(s.ttfb_p90),
            us(s.total_p50),
            us(s.total_p90),
            chunks,
            s.failures
        );
    }

    out.push_str(
        "\nRatios of the figures above (same run):\n\n\
         | ratio | TTFB p50 | TTFB p90 | total p50 | total p90 |\n|---|--:|--:|--:|--:|\n",
    );
    let mut ratio_row = |label: String, a: Option<usize>, b: Option<usize>| {
        let (Some(a), Some(b)) = (a, b) else { return };
        let (a, b) = (run.summary(a), run.summary(b));
        let _ = writeln!(
            out,
            "| {label} | {} | {} | {} | {} |",
            ratio(a.ttfb_p50, b.ttfb_p50),
            ratio(a.ttfb_p90, b.ttfb_p90),
            ratio(a.total_p50, b.total_p50),
            ratio(a.total_p90, b.total_p90)
        );
    };
    for response in Response::ALL {
        let official = if response == Response::UrlStreamed {
            "lambda_http"
        } else {
            OFFICIAL
        };
        ratio_row(
            format!("{OURS} ÷ {official}, {}", response.label()),
            run.index_of(OURS, response),
            run.index_of(OFFICIAL, response),
        );
    }
    for runtime in RUNTIMES {
        ratio_row(
            format!("{runtime}: streamed ÷ buffered"),
            run.index_of(runtime, Response::Streamed),
            run.index_of(runtime, Response::Buffered),
        );
    }

    out.push_str(
        "\nWhat the streamed responses looked like on the wire (the first warm invocation):\n\n\
         | runtime | response | `Lambda-Runtime-Function-Response-Mode` | `Transfer-Encoding` | \
         `Trailer` | `Content-Type` | prelude |\n|---|---|---|---|---|---|---|\n",
    );
    for (i, function) in run.functions.iter().enumerate() {
        let Some(record) = &run.first_warm[i] else {
            continue;
        };
        if function.response == Response::Buffered {
            continue;
        }
        let h = &record.headers;
        let shown =
            |v: &Option<String>| v.as_deref().map_or("–".to_owned(), |v| format!("`{v}`"));
        let prelude = if h.content_type.as_deref() == Some(HTTP_INTEGRATION) {
            "yes"
        } else {
            "no"
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {prelude} |",
            function.runtime,
            function.response.label(),
            shown(&h.response_mode),
            shown(&h.transfer_encoding),
            shown(&h.trailer),
            shown(&h.content_type),
        );
    }

    out.push_str(
        "\nA streamed function that fails after its first piece (`_HANDLER=fail`), as the \
         Runtime API received it:\n\n\
         | runtime | endpoint | body bytes | error sent as | error type | error body, base64-decoded |\n\
         |---|---|--:|---|---|---|\n",
    );
    for check in &run.failure_checks {
        let r = &check.record;
        let (how, error_type, body) = reported_error(r);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {how} | {} | {} |",
            check.runtime,
            r.endpoint,
            r.body_bytes,
            error_type.map_or("–".to_owned(), |t| format!("`{t}`")),
            body.map_or("–".to_owned(), |b| format!("`{}`", shorten(&b, 100))),
        );
    }
    let real_trailers = |runtime: &str| {
        run.failure_checks.iter().any(|c| {
            c.runtime == runtime
                && c.record
                    .trailers
                    .iter()
                    .any(|(n, _)| n.eq_ignore_ascii_case(ERROR_TYPE_TRAILER))
        })
    };
    let _ = writeln!(
        out,
        "\nError trailers as HTTP trailers: {OURS} {}, {OFFICIAL} {}.",
        if real_trailers(OURS) { "yes" } else { "no" },
        if real_trailers(OFFICIAL) { "yes" } else { "no" },
    );
    out
}

/// How a failed stream reported its error: as HTTP trailers, or as trailer text sent as body
/// bytes; its type and its decoded body.
fn reported_error(record: &Record) -> (&'static str, Option<String>, Option<String>) {
    let trailer = |name: &str| {
        record
            .trailers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let in_body = |name: &str| {
        let text = record.error_in_body.as_deref()?;
        let line = text.split("\r\n").find_map(|l| l.strip_prefix(name))?;
        Some(line.trim_start_matches(':').trim().to_owned())
    };
    let decoded = |b64: Option<String>| b64.map(|b| base64_decode(&b).unwrap_or(b));
    if let Some(error_type) = trailer(ERROR_TYPE_TRAILER) {
        let body = decoded(trailer(ERROR_BODY_TRAILER));
        ("HTTP trailers", Some(error_type), body)
    } else if let Some(error_type) = in_body(ERROR_TYPE_TRAILER) {
        let body = decoded(in_body(ERROR_BODY_TRAILER));
        ("text in the body, after the data", Some(error_type), body)
    } else {
        ("nothing found", None, None)
    }
}

/// The chunk sizes, runs of equal sizes folded: `85, 8, 16 × 65536`.
fn chunk_summary(record: &Record) -> String {
    if record.chunks.is_empty() {
        return format!("none (Content-Length {})", record.body_bytes);
    }
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for &size in &record.chunks {
        match runs.last_mut() {
            Some((last, count)) if *last == size => *count += 1,
            _ => runs.push((size, 1)),
        }
    }
    runs.iter()
        .map(|&(size, count)| {
            if count == 1 {
                size.to_string()
            } else {
                format!("{count} × {size}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(max).collect::<String>())
    }
}

/// One row per invocation, warm-up included (`warmup` = 1), times in µs.
fn csv(run: &Run) -> String {
    let mut out = String::from(
        "runtime,response,round,warmup,head_us,ttfb_us,first_body_byte_us,total_us,body_bytes,chunks,problem\n",
    );
    let field = |d: Option<Duration>| d.map_or(String::new(), |d| format!("{:.1}", micros(d)));
    for s in &run.samples {
        let function = &run.functions[s.function];
        let _ = writeln!(
            out,
            "{},{},{},{},{:.1},{},{},{:.1},{},{},{}",
            function.runtime,
            function.response.id(),
            s.round,
            u8::from(s.round == 0),
            micros(s.head),
            field(s.ttfb),
            field(s.first_body_byte),
            micros(s.total),
            s.body_bytes,
            s.chunks,
            s.problem
                .as_deref()
                .unwrap_or_default()
                .replace([',', '\n', '\r'], " ")
        );
    }
    out
}

/// Two panels, TTFB and total time: per response kind a bar per runtime at p50,
/// with a line up to p90.
fn chart(run: &Run, path: &Path) -> Drawn {
    use plotters::prelude::*;

    let groups = Response::ALL;
    let summaries: Vec<Vec<Option<Summary>>> = RUNTIMES
        .iter()
        .map(|runtime| {
            groups
                .iter()
                .map(|&response| run.index_of(runtime, response).map(|i| run.summary(i)))
                .collect()
        })
        .collect();
    let labels: Vec<String> = groups.iter().map(|g| g.label().to_owned()).collect();

    let title = format!(
        "1 MiB response in 16 × 64 KiB, {} warm invocations per function{}: bars p50, lines to p90",
        run.rounds,
        if run.quick { " (quick run)" } else { "" }
    );
    let root = svg(path, (1200, 520), &title)?;
    type Metric = (&'static str, fn(&Summary) -> (f64, f64));
    let metrics: [Metric; 2] = [
        ("time to first byte, µs", |s| (s.ttfb_p50, s.ttfb_p90)),
        ("total time, µs", |s| (s.total_p50, s.total_p90)),
    ];
    for (panel, (title, value)) in root.split_evenly((1, 2)).iter().zip(metrics) {
        // Per runtime, per response kind: (p50, p90), NaN where the function did not run.
        let figures: Vec<Vec<(f64, f64)>> = summaries
            .iter()
            .map(|of_groups| {
                of_groups
                    .iter()
                    .map(|s| s.as_ref().map_or((f64::NAN, f64::NAN), value))
                    .collect()
            })
            .collect();
        let bars = Bars {
            title,
            labels: &labels,
            label_size: 14,
            series: RUNTIMES
                .iter()
                .zip(&figures)
                .map(|(runtime, of_groups)| (*runtime, of_groups.iter().map(|f| f.0).collect()))
                .collect(),
            legend: true,
            y_format: Some(|v| format!("{v:.0}")),
        };
        // Headroom above the tallest line for the legend.
        let top = figures
            .iter()
            .flatten()
            .flat_map(|&(p50, p90)| [p50, p90])
            .filter(|v| v.is_finite() && *v > 0.0)
            .fold(1.0, f64::max);
        let mut chart = bars.draw(panel, 0.0..top * 1.3, 0.0)?;
        for (r, of_groups) in figures.iter().enumerate() {
            for (g, &(p50, p90)) in of_groups.iter().enumerate() {
                if p50.is_finite() {
                    let (left, width) = bars.bar(g, r);
                    let middle = left + width / 2.0;
                    chart.draw_series(LineSeries::new([(middle, p50), (middle, p90)], BLACK))?;
                }
            }
        }
    }
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::PostHeaders;

    #[test]
    fn runs_of_equal_chunks_are_folded() {
        let record = Record {
            endpoint: "/response",
            headers: PostHeaders::default(),
            head: Duration::ZERO,
            first_body_byte: None,
            first_payload_byte: None,
            end: Duration::ZERO,
            chunks: vec![85, 8, 65536, 65536],
            trailers: Vec::new(),
            body_bytes: 131_165,
            problem: None,
            error_in_body: None,
        };
        assert_eq!(chunk_summary(&record), "85, 8, 2 × 65536");
    }

    #[test]
    fn percentiles_are_nearest_rank_and_nan_when_empty() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), 5.0);
        assert_eq!(percentile(&v, 0.9), 9.0);
        assert!(percentile(&[], 0.5).is_nan());
    }
}
