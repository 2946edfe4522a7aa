//! What every report has: its files, its heading (when, on what machine) and CSV fields; its
//! chart is drawn with [`crate::chart`].

use std::io;
use std::path::{Path, PathBuf};

/// Writes `{stem}.md`, `{stem}.csv` and `{stem}.svg` (drawn by `chart`) into `dir`, creating it;
/// returns their paths.
pub fn write_files(
    dir: &Path,
    stem: &str,
    markdown: &str,
    csv: &str,
    chart: impl FnOnce(&Path) -> Result<(), Box<dyn std::error::Error>>,
) -> io::Result<Vec<PathBuf>> {
    let mut written = write(
        dir,
        &[
            (&format!("{stem}.md"), markdown),
            (&format!("{stem}.csv"), csv),
        ],
    )?;
    let svg_path = dir.join(format!("{stem}.svg"));
    chart(&svg_path)
        .map_err(|e| io::Error::other(format!("drawing {}: {e}", svg_path.display())))?;
    written.push(svg_path);
    Ok(written)
}

/// Writes each `(name, text)` of `files` into `dir`, creating it; returns their paths. For a
/// report whose files are named otherwise, or that has no chart.
pub fn write(dir: &Path, files: &[(&str, &str)]) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::write(&path, text)
            .map_err(|e| io::Error::other(format!("{}: {e}", path.display())))?;
        written.push(path);
    }
    Ok(written)
}

/// Prints a report's tables, then where its files went: what a harness shows at the end.
pub fn print(tables: &str, written: &[PathBuf]) {
    println!("{tables}");
    for path in written {
        println!("wrote {}", path.display());
    }
}

/// A CSV field, quoted if it holds a comma, a quote or a line break.
pub fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// `/proc/cpuinfo`'s model name, the CPU count and the kernel, for a report's heading.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    // The machine's CPUs online, not `available_parallelism`: pinned, that is 1.
    // SAFETY: sysconf only reads a system value.
    let cpus = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{cpus} × {cpu}, Linux {}", kernel.trim())
}

/// The current time as `2026-11-22 23:04` (UTC).
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    utc(secs)
}

/// Seconds since 1970 as `2026-11-22 23:04` (UTC).
fn utc(secs: u64) -> String {
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
    use super::*;

    #[test]
    fn dates_are_civil_utc() {
        assert_eq!(utc(0), "1970-01-01 00:00");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00");
        assert_eq!(utc(1_795_388_640), "2026-11-22 23:04");
    }

    #[test]
    fn csv_fields_are_quoted_only_when_they_must_be() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
