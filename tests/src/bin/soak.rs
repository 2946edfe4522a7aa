//! The soak as a benchmark report: `cargo run --release -p lambda-blocking-rt-tests --bin soak [N]`
//! prints a markdown report (kept in benches/results/soak.md).

fn main() {
    let invocations = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let mut rows = Vec::new();
    for payload in [64, 64 * 1024] {
        let r = lambda_blocking_rt_tests::soak::soak(invocations, 1_000, payload);
        rows.push(format!(
            "| {} B | {} | {} | {} | {:.3} | {} | {} | {} | {} | {:.1} | {:.0} |",
            r.payload_bytes,
            r.invocations,
            r.rss_after_warmup_kib,
            r.rss_after_last_kib,
            r.rss_ratio(),
            r.peak_rss_kib,
            r.fds_after_warmup,
            r.fds_after_last,
            r.connections,
            r.elapsed.as_secs_f64(),
            r.invocations as f64 / r.elapsed.as_secs_f64(),
        ));
    }
    println!("# Soak: {invocations} echo invocations in one bootstrap process\n");
    println!(
        "Bootstrap: {}",
        lambda_blocking_rt_tests::bootstrap_path().display()
    );
    println!(
        "RSS is VmRSS from /proc/PID/status after the first 1 000 invocations and after the last;"
    );
    println!(
        "descriptors are the entries of /proc/PID/fd. Target: RSS ratio <= 1.1, no descriptor growth.\n"
    );
    println!(
        "| payload | invocations | RSS after 1 000 (KiB) | RSS after last (KiB) | ratio | peak RSS (KiB) | fds after 1 000 | fds after last | connections | seconds | invocations/s |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for row in rows {
        println!("{row}");
    }
}
