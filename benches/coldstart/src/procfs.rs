//! What the kernel says about a running bootstrap: memory from /proc/PID/status, page faults and
//! CPU ticks from /proc/PID/stat, and its exact CPU time from the process's CPU clock.

use std::time::Duration;

/// The process's peak resident set (`VmHWM` in /proc/PID/status), in KiB.
pub fn peak_rss_kib(pid: u32) -> Result<u64, String> {
    status_kib(pid, "VmHWM")
}

/// A `kB` line of /proc/PID/status (`VmHWM`, `VmRSS`, `RssAnon`, `RssFile`, …), in KiB.
pub fn status_kib(pid: u32, field: &str) -> Result<u64, String> {
    status_field(pid, field)?
        .trim_end_matches("kB")
        .trim()
        .parse()
        .map_err(|_| format!("{field} is not a size in kB"))
}

/// How many threads the process has (`Threads` in /proc/PID/status).
pub fn threads(pid: u32) -> Result<u32, String> {
    status_field(pid, "Threads")?
        .parse()
        .map_err(|_| "Threads is not a count".to_owned())
}

fn status_field(pid: u32, field: &str) -> Result<String, String> {
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| e.to_string())?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .map(|value| value.trim().to_owned())
        .ok_or_else(|| format!("no {field} line in /proc/{pid}/status"))
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
    stat.rsplit_once(')')
        .and_then(|(_, fields)| fields.split_whitespace().nth(number - 3))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("no field {number} in /proc/{pid}/stat"))
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

    #[test]
    fn this_process_can_be_read() {
        let pid = std::process::id();
        assert!(peak_rss_kib(pid).unwrap() > 0);
        assert!(status_kib(pid, "RssAnon").is_ok());
        assert!(threads(pid).unwrap() >= 1);
        assert!(minor_faults(pid).unwrap() > 0);
        let spin = std::time::Instant::now();
        while spin.elapsed() < Duration::from_millis(30) {}
        let cpu = cpu_time(pid).unwrap();
        assert!(cpu >= Duration::from_millis(20), "{cpu:?}");
        assert!(cpu_ticks(pid).unwrap() >= 1);
        std::thread::sleep(Duration::from_millis(1));
        assert!(context_switches(pid).unwrap() >= 1);
    }
}
