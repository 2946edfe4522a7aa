//! The soak: many invocations of `echo` in one bootstrap process, watching its memory and its
//! file descriptors.

use std::time::{Duration, Instant};

use crate::{FakeApi, Invocation, launch};

/// What one soak run measured.
#[derive(Debug, Clone)]
pub struct SoakReport {
    pub invocations: usize,
    pub warmup: usize,
    pub payload_bytes: usize,
    /// VmRSS after the warm-up invocations, in KiB.
    pub rss_after_warmup_kib: u64,
    /// VmRSS after the last invocation, in KiB.
    pub rss_after_last_kib: u64,
    /// VmHWM (peak RSS) after the last invocation, in KiB.
    pub peak_rss_kib: u64,
    pub fds_after_warmup: usize,
    pub fds_after_last: usize,
    /// Connections the process opened to the API over the whole run.
    pub connections: usize,
    pub elapsed: Duration,
}

impl SoakReport {
    pub fn rss_ratio(&self) -> f64 {
        self.rss_after_last_kib as f64 / self.rss_after_warmup_kib as f64
    }
}

/// Runs `invocations` echo invocations of `payload_bytes` each through one bootstrap, measuring
/// after `warmup` of them and after the last. Every response is checked against its event.
pub fn soak(invocations: usize, warmup: usize, payload_bytes: usize) -> SoakReport {
    assert!(warmup > 0 && warmup < invocations);
    let api = FakeApi::start();
    let mut bootstrap = launch(&api, "echo", &[]);
    let started = Instant::now();
    let payload = |i: usize| {
        let mut body = format!("{i:08}").into_bytes();
        body.resize(payload_bytes.max(8), b'x');
        body
    };
    // Feed the queue in batches of `warmup`, so the fake API's memory stays small as well.
    let mut pushed = 0;
    let mut measured_warmup = None;
    let limit = Duration::from_secs(600);
    while pushed < invocations {
        let batch = warmup.min(invocations - pushed);
        for i in pushed..pushed + batch {
            api.push(Invocation::new(payload(i)));
        }
        pushed += batch;
        assert!(
            api.wait_posts_total(pushed, limit),
            "the soak stalled at {} answers",
            api.posts_len()
        );
        assert!(
            bootstrap.is_running(),
            "the bootstrap died: {}",
            bootstrap.stderr()
        );
        if measured_warmup.is_none() {
            measured_warmup = Some((rss_kib(bootstrap.pid(), "VmRSS"), fd_count(bootstrap.pid())));
        }
        api.check_and_forget_posts(|i, body| assert_eq!(body, payload(i), "response {i}"));
    }
    let (rss_after_warmup_kib, fds_after_warmup) = measured_warmup.expect("warm-up measured");
    let report = SoakReport {
        invocations,
        warmup,
        payload_bytes,
        rss_after_warmup_kib,
        rss_after_last_kib: rss_kib(bootstrap.pid(), "VmRSS"),
        peak_rss_kib: rss_kib(bootstrap.pid(), "VmHWM"),
        fds_after_warmup,
        fds_after_last: fd_count(bootstrap.pid()),
        connections: api.connections(),
        elapsed: started.elapsed(),
    };
    assert_eq!(
        api.answered_total(),
        invocations,
        "every invocation answered once"
    );
    report
}

/// A `Vm*` line of /proc/PID/status, in KiB.
pub fn rss_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/PID/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

/// Entries in /proc/PID/fd.
pub fn fd_count(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("/proc/PID/fd")
        .count()
}
