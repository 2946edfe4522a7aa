//! What the kernel says about a running bootstrap: memory from /proc/PID/status, page faults and
//! CPU ticks from /proc/PID/stat, each thread's on-CPU time from /proc/PID/task/*/schedstat, and
//! its exact CPU time from the process's CPU clock.

use std::time::{Duration, Instant};

use bench_support::process::status_field;
pub use bench_support::process::status_kib;

/// The process's peak resident set (`VmHWM` in /proc/PID/status), in KiB.
pub fn peak_rss_kib(pid: u32) -> Result<u64, String> {
    status_kib(pid, "VmHWM")
}

/// How many threads the process has (`Threads` in /proc/PID/status).
pub fn threads(pid: u32) -> Result<u32, String> {
    status_field(pid, "Threads")?
        .parse()
        .map_err(|_| "Threads is not a count".to_owned())
}

/// Context switches of all the process's threads so far: `voluntary_ctxt_switches` +
/// `nonvoluntary_ctxt_switches` of each /proc/PID/task/TID/status (threads that ended are not
/// counted; the runtimes measured keep theirs).
pub fn context_switches(pid: u32) -> Result<u64, String> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).map_err(|e| e.to_string())?;
    let mut total = 0;
    for task in tasks {
        let path = task.map_err(|e| e.to_string())?.path().join("status");
        // A thread may end between the listing and the read.
        let Ok(status) = std::fs::read_to_string(path) else {
            continue;
        };
        total += status
            .lines()
            .filter_map(|line| {
                let value = line
                    .strip_prefix("voluntary_ctxt_switches:")
                    .or_else(|| line.strip_prefix("nonvoluntary_ctxt_switches:"))?;
                value.trim().parse::<u64>().ok()
            })
            .sum::<u64>();
    }
    Ok(total)
}

/// Field 10 (`minflt`) of /proc/PID/stat.
pub fn minor_faults(pid: u32) -> Result<u64, String> {
    stat_field(pid, 10)
}

/// Field 12 (`majflt`) of /proc/PID/stat: faults that had to read the page from disk.
pub fn major_faults(pid: u32) -> Result<u64, String> {
    stat_field(pid, 12)
}

/// The on-CPU time of every thread the process has now, summed, in nanoseconds: the first
/// field of each /proc/PID/task/TID/schedstat. Not /proc/PID/schedstat, which is the main
/// thread's alone (checked on Linux 6.18: a second thread's time shows in its task's file and in
/// the process's CPU clock, not there). Threads that ended are not counted.
pub fn threads_cpu_ns(pid: u32) -> Result<u64, String> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).map_err(|e| e.to_string())?;
    let mut total = 0;
    for task in tasks {
        let path = task.map_err(|e| e.to_string())?.path().join("schedstat");
        // A thread may end between the listing and the read.
        let Ok(schedstat) = std::fs::read_to_string(&path) else {
            continue;
        };
        total += on_cpu_ns(&schedstat)
            .ok_or_else(|| format!("{} is not `run wait slices`", path.display()))?;
    }
    Ok(total)
}

/// The first field of a schedstat line (`run_ns wait_ns timeslices`): time spent on the CPU.
fn on_cpu_ns(schedstat: &str) -> Option<u64> {
    let mut fields = schedstat.split_whitespace();
    let run = fields.next()?.parse().ok()?;
    // Two more fields, or it is not a schedstat line.
    fields.nth(1)?;
    Some(run)
}

/// Waits (up to `timeout`) until none of the process's threads is running or runnable (state
/// `R` in /proc/PID/task/TID/stat): all are asleep, e.g. in the runtime's long poll. Returns
/// whether they are.
pub fn wait_until_asleep(pid: u32, timeout: Duration) -> bool {
    let until = Instant::now() + timeout;
    loop {
        if !any_thread_running(pid) {
            return true;
        }
        if Instant::now() > until {
            return false;
        }
        // Pinned, the process runs on this CPU: give it the CPU rather than spin.
        std::thread::sleep(Duration::from_micros(50));
    }
}

fn any_thread_running(pid: u32) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    tasks.flatten().any(|task| {
        std::fs::read_to_string(task.path().join("stat"))
            .is_ok_and(|stat| stat_value(&stat, 3) == Some("R"))
    })
}

/// `utime` + `stime` (fields 14 and 15 of /proc/PID/stat): the CPU time of all the process's
/// threads, in clock ticks (`sysconf(_SC_CLK_TCK)`, 100 a second on Linux).
pub fn cpu_ticks(pid: u32) -> Result<u64, String> {
    Ok(stat_field(pid, 14)? + stat_field(pid, 15)?)
}

/// Clock ticks a second, the unit of `utime` and `stime` (`sysconf(_SC_CLK_TCK)`).
pub fn ticks_per_second() -> u64 {
    // SAFETY: sysconf only reads a system constant.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(ticks).unwrap_or(100)
}

/// Field `number` (counted from 1, as proc(5) does) of /proc/PID/stat. Fields are counted after
/// the `)` that ends the command name (field 2), which may itself hold spaces.
fn stat_field(pid: u32, number: usize) -> Result<u64, String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).map_err(|e| e.to_string())?;
    stat_value(&stat, number)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("no field {number} in /proc/{pid}/stat"))
}

/// Field `number` (from 3 on: the fields after the command name) of a /proc/…/stat line.
fn stat_value(stat: &str, number: usize) -> Option<&str> {
    let (_, fields) = stat.rsplit_once(')')?;
    fields.split_whitespace().nth(number.checked_sub(3)?)
}

/// The CPU time all the process's threads have used, from its CPU clock
/// (`clock_getcpuclockid`): the same total as `utime` + `stime`, but to the nanosecond instead
/// of the 10 ms tick that /proc/PID/stat rounds to.
pub fn cpu_time(pid: u32) -> Result<Duration, String> {
    let pid = libc::pid_t::try_from(pid).map_err(|_| format!("pid {pid} out of range"))?;
    // SAFETY: both calls only write the plain-data value they are given a pointer to.
    unsafe {
        let mut clock: libc::clockid_t = 0;
        let e = libc::clock_getcpuclockid(pid, &mut clock);
        if e != 0 {
            return Err(format!(
                "no CPU clock for pid {pid}: {}",
                std::io::Error::from_raw_os_error(e)
            ));
        }
        let mut now: libc::timespec = std::mem::zeroed();
        if libc::clock_gettime(clock, &mut now) != 0 {
            return Err(format!(
                "cannot read the CPU clock of pid {pid}: {}",
                std::io::Error::last_os_error()
            ));
        }
        Ok(Duration::new(now.tv_sec as u64, now.tv_nsec as u32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A /proc/PID/stat line whose command name holds spaces and a `)`, as a thread name may.
    const STAT: &str = "4242 (tokio) runtime w) S 1 4242 4242 0 -1 4194560 173 0 2 0 \
                        5 3 0 0 20 0 3 0 12345 6000000 300 18446744073709551615\n";

    #[test]
    fn stat_fields_are_counted_after_the_last_parenthesis() {
        assert_eq!(stat_value(STAT, 3), Some("S"));
        assert_eq!(stat_value(STAT, 10), Some("173"));
        assert_eq!(stat_value(STAT, 12), Some("2"));
        assert_eq!(stat_value(STAT, 14), Some("5"));
        assert_eq!(stat_value(STAT, 15), Some("3"));
        assert_eq!(stat_value(STAT, 60), None);
        assert_eq!(stat_value(STAT, 2), None);
        assert_eq!(stat_value("no command name", 3), None);
    }

    #[test]
    fn schedstat_gives_the_on_cpu_time() {
        assert_eq!(on_cpu_ns("208798195 1542 37\n"), Some(208_798_195));
        assert_eq!(on_cpu_ns("18446744073709551615 0 0"), Some(u64::MAX));
        assert_eq!(on_cpu_ns(""), None);
        assert_eq!(on_cpu_ns("12 34"), None);
        assert_eq!(on_cpu_ns("-1 0 0"), None);
        assert_eq!(on_cpu_ns("1.5 0 0"), None);
    }

    /// Why the threads are summed: /proc/PID/schedstat leaves out every thread but the main one.
    #[test]
    fn every_threads_cpu_time_is_counted() {
        let pid = std::process::id();
        let main_before = on_cpu_ns(&std::fs::read_to_string("/proc/self/schedstat").unwrap());
        let all_before = threads_cpu_ns(pid).unwrap();
        let (spun, done) = std::sync::mpsc::channel();
        let (finish, finished) = std::sync::mpsc::channel::<()>();
        let spinner = std::thread::spawn(move || {
            let spin = Instant::now();
            while spin.elapsed() < Duration::from_millis(50) {}
            spun.send(()).unwrap();
            // Alive until read: an ended thread's time leaves /proc/PID/task.
            finished.recv().unwrap();
        });
        done.recv().unwrap();
        let all_after = threads_cpu_ns(pid).unwrap();
        let main_after = on_cpu_ns(&std::fs::read_to_string("/proc/self/schedstat").unwrap());
        finish.send(()).unwrap();
        spinner.join().unwrap();
        // The spin is CPU time only if it was on a CPU: under load, 50 ms of wall clock may
        // hold less, but not less than a fifth of it on a machine that runs tests at all.
        assert!(
            all_after - all_before >= 10_000_000,
            "{all_before} → {all_after}"
        );
        let main = main_after.unwrap() - main_before.unwrap();
        assert!(main < 10_000_000, "main thread alone: {main} ns");
    }

    #[test]
    fn this_process_can_be_read() {
        let pid = std::process::id();
        assert!(peak_rss_kib(pid).unwrap() > 0);
        assert!(status_kib(pid, "RssAnon").is_ok());
        assert!(threads(pid).unwrap() >= 1);
        assert!(minor_faults(pid).unwrap() > 0);
        assert!(major_faults(pid).is_ok());
        let spin = std::time::Instant::now();
        while spin.elapsed() < Duration::from_millis(30) {}
        let cpu = cpu_time(pid).unwrap();
        assert!(cpu >= Duration::from_millis(20), "{cpu:?}");
        assert!(cpu_ticks(pid).unwrap() >= 1);
        std::thread::sleep(Duration::from_millis(1));
        assert!(context_switches(pid).unwrap() >= 1);
    }
}
