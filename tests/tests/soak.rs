//! The soak as a test: 100 000 echo invocations in one process, memory and descriptors flat.
//! Ignored by default (it takes a minute or two); scripts/test.sh runs it in release mode
//! inside a time budget: `cargo test --release -p lambda-blocking-rt-tests --test soak -- --ignored`.

use lambda_blocking_rt_tests::soak::soak;

#[test]
#[ignore = "long: run by scripts/test.sh with --ignored"]
fn hundred_thousand_invocations_keep_memory_and_descriptors_flat() {
    let report = soak(100_000, 1_000, 64);
    eprintln!("{report:#?}");
    assert!(
        report.rss_ratio() <= 1.1,
        "RSS grew from {} KiB after {} to {} KiB after {}",
        report.rss_after_warmup_kib,
        report.warmup,
        report.rss_after_last_kib,
        report.invocations
    );
    assert!(
        report.fds_after_last <= report.fds_after_warmup,
        "descriptors grew: {report:?}"
    );
    assert_eq!(
        report.connections, 1,
        "one keep-alive connection for the whole run"
    );
}
