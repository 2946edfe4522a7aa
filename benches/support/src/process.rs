//! The harness's own process and the ones it starts: pinning to a CPU, and what
//! /proc/PID/status says about a running one.

/// Pins the calling thread to one CPU; threads and children it starts from now on inherit the
/// mask, so call it before the server starts (`--pin CPU`).
pub fn pin_to_cpu(cpu: usize) -> Result<(), String> {
    // SAFETY: cpu_set_t is plain data; CPU_SET bounds-checks nothing, so `cpu` is checked first.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if cpu >= 8 * std::mem::size_of::<libc::cpu_set_t>() {
            return Err(format!("CPU {cpu} is out of range"));
        }
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(format!(
                "cannot pin to CPU {cpu}: {}",
                std::io::Error::last_os_error()
            ));
        }
    }
    Ok(())
}

/// A `kB` line of /proc/PID/status (`VmHWM`, the peak resident set so far; `VmRSS`, `RssAnon`,
/// `RssFile`, …), in KiB.
pub fn status_kib(pid: u32, field: &str) -> Result<u64, String> {
    status_field(pid, field)?
        .trim_end_matches("kB")
        .trim()
        .parse()
        .map_err(|_| format!("{field} is not a size in kB"))
}

/// The value of a line of /proc/PID/status, trimmed.
pub fn status_field(pid: u32, field: &str) -> Result<String, String> {
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| e.to_string())?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .map(|value| value.trim().to_owned())
        .ok_or_else(|| format!("no {field} line in /proc/{pid}/status"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_status_has_a_peak_rss() {
        assert!(status_kib(std::process::id(), "VmHWM").unwrap() > 0);
        assert!(status_kib(std::process::id(), "NoSuchLine").is_err());
    }
}
