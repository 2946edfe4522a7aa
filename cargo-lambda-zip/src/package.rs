//! The Lambda package: `bootstrap` and `bootstrap.zip` in one folder per architecture and
//! binary. The zip holds `bootstrap` at its root, mode 0755, then the files `--include` adds,
//! in name order, each deflated with a fixed timestamp, so the same inputs always give the same
//! zip bytes.

use std::fs;
use std::io::{Cursor, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipArchive, ZipWriter};

use crate::arch::Arch;
use crate::elf;
use crate::error::Error;

/// Lambda runs the file named `bootstrap` at the root of a `provided` runtime's package.
const ENTRY: &str = "bootstrap";
/// A regular file (`S_IFREG`), rwxr-xr-x: the file type bits too, or some unzip tools and
/// Lambda do not take the mode.
const MODE: u32 = 0o100_755;
/// 1980-01-01 00:00:00 UTC, the earliest time a zip entry can hold.
const ZIP_EPOCH: u64 = 315_532_800;

/// A file `--include` adds to every zip.
#[derive(Debug, PartialEq)]
pub struct Extra {
    /// Its path in the zip: the file's name, or the folder's name and the path inside it.
    pub name: String,
    pub bytes: Vec<u8>,
    /// 0755 where the file is executable by its owner, else 0644, with the file type bits.
    pub mode: u32,
}

/// Reads the files of `--include PATH...`: a file under its own name, a folder with every file
/// in it under the folder's name; sorted by name, each once, none called `bootstrap`.
pub fn read_extras(paths: &[std::path::PathBuf]) -> Result<Vec<Extra>, Error> {
    let mut extras = Vec::new();
    for path in paths {
        let name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .filter(|name| name != "..")
            .ok_or_else(|| Error::BadInclude {
                path: path.clone(),
                problem: "it has no name to give it in the zip".to_owned(),
            })?;
        add_extras(path, name, &mut extras)?;
    }
    extras.sort_by(|a, b| a.name.cmp(&b.name));
    for pair in extras.windows(2) {
        if pair[0].name == pair[1].name {
            return Err(Error::BadInclude {
                path: pair[0].name.clone().into(),
                problem: "two --include paths give it the same name in the zip".to_owned(),
            });
        }
    }
    if let Some(extra) = extras.iter().find(|extra| extra.name == ENTRY) {
        return Err(Error::BadInclude {
            path: extra.name.clone().into(),
            problem: format!("the zip's {ENTRY} is the binary"),
        });
    }
    Ok(extras)
}

fn add_extras(path: &Path, name: String, extras: &mut Vec<Extra>) -> Result<(), Error> {
    let metadata = fs::metadata(path).map_err(Error::io(path))?;
    if metadata.is_dir() {
        let mut entries: Vec<_> = fs::read_dir(path)
            .map_err(Error::io(path))?
            .collect::<Result<_, _>>()
            .map_err(Error::io(path))?;
        entries.sort_by_key(|entry| entry.file_name());
        for entry in entries {
            let child = format!("{name}/{}", entry.file_name().to_string_lossy());
            add_extras(&entry.path(), child, extras)?;
        }
        return Ok(());
    }
    let executable = metadata.permissions().mode() & 0o100 != 0;
    extras.push(Extra {
        name,
        bytes: fs::read(path).map_err(Error::io(path))?,
        mode: if executable { MODE } else { 0o100_644 },
    });
    Ok(())
}

/// What a package holds and what its files are called.
pub struct Layout {
    /// The binary's file name beside the zip.
    file: String,
    /// The zip's file name.
    zip: &'static str,
    /// The binary's path in the zip.
    entry: String,
}

impl Layout {
    /// A function: `bootstrap` at the zip's root, the file Lambda runs for a `provided` runtime.
    pub fn function() -> Layout {
        Layout {
            file: ENTRY.to_owned(),
            zip: "bootstrap.zip",
            entry: ENTRY.to_owned(),
        }
    }

    /// An external extension's layer: `extensions/<bin>`, which Lambda finds in
    /// `/opt/extensions/` and starts before the runtime; its name is the file's name.
    pub fn extension(bin: &str) -> Layout {
        Layout {
            file: bin.to_owned(),
            zip: "extension.zip",
            entry: format!("extensions/{bin}"),
        }
    }
}

/// What was written.
pub struct Package {
    pub binary_bytes: u64,
    pub zip_bytes: u64,
}

/// The timestamp of zip entries: `SOURCE_DATE_EPOCH` in UTC when set, else 1980-01-01, so that
/// a zip changes only when its binary does.
pub fn zip_time_from_env() -> Result<DateTime, Error> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Err(_) => Ok(zip_time(ZIP_EPOCH)),
        Ok(value) => match value.trim().parse::<u64>() {
            Ok(seconds) => Ok(zip_time(seconds)),
            Err(_) => Err(Error::SourceDateEpoch { value }),
        },
    }
}

/// Seconds since 1970 as a zip time (UTC), clamped to what a zip can hold (1980 to 2107).
fn zip_time(seconds: u64) -> DateTime {
    let (year, month, day, hour, minute, second) = utc(seconds.max(ZIP_EPOCH));
    let year = u16::try_from(year).unwrap_or(u16::MAX);
    DateTime::from_date_and_time(year, month, day, hour, minute, second).unwrap_or_else(|_| {
        DateTime::from_date_and_time(2107, 12, 31, 23, 59, 58).unwrap_or_default()
    })
}

/// Seconds since 1970 to a UTC calendar date and time (Howard Hinnant's `civil_from_days`).
fn utc(seconds: u64) -> (u64, u8, u8, u8, u8, u8) {
    let days = seconds / 86_400;
    let in_day = seconds % 86_400;
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    let (hour, minute, second) = (in_day / 3600, in_day / 60 % 60, in_day % 60);
    (year, month, day, hour as u8, minute as u8, second as u8)
}

/// Checks the binary cargo built, then writes `dir/bootstrap` and `dir/bootstrap.zip` and
/// checks the zip as written.
pub fn write(
    executable: &Path,
    layout: &Layout,
    extras: &[Extra],
    dir: &Path,
    arch: Arch,
    time: DateTime,
) -> Result<Package, Error> {
    let bytes = fs::read(executable).map_err(Error::io(executable))?;
    elf::check_static(&bytes, arch).map_err(|problem| Error::NotStatic {
        path: executable.to_owned(),
        arch: arch.name(),
        problem,
    })?;
    fs::create_dir_all(dir).map_err(Error::io(dir))?;

    let binary = dir.join(&layout.file);
    replace_file(&binary, &bytes, 0o755)?;
    let zip = dir.join(layout.zip);
    let zipped = zip_bytes(&layout.entry, &bytes, extras, time).map_err(|error| Error::BadZip {
        path: zip.clone(),
        problem: error.to_string(),
    })?;
    replace_file(&zip, &zipped, 0o644)?;
    let written = fs::read(&zip).map_err(Error::io(&zip))?;
    check_zip(&written, &layout.entry, &bytes, extras).map_err(|problem| Error::BadZip {
        path: zip.clone(),
        problem,
    })?;
    Ok(Package {
        binary_bytes: bytes.len() as u64,
        zip_bytes: written.len() as u64,
    })
}

fn zip_bytes(
    entry: &str,
    binary: &[u8],
    extras: &[Extra],
    time: DateTime,
) -> zip::result::ZipResult<Vec<u8>> {
    let options = |mode: u32| {
        SimpleFileOptions::default()
            .system(zip::System::Unix)
            .compression_method(CompressionMethod::Deflated)
            .compression_level(Some(9))
            .last_modified_time(time)
            .unix_permissions(mode)
    };
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    writer.start_file(entry, options(MODE))?;
    writer.write_all(binary)?;
    for extra in extras {
        writer.start_file(extra.name.as_str(), options(extra.mode))?;
        writer.write_all(&extra.bytes)?;
    }
    Ok(writer.finish()?.into_inner())
}

/// `Err` says what is wrong: not exactly `bootstrap` at the root and the extras after it, the
/// wrong mode, not deflated, or other bytes than the binary's.
fn check_zip(zip: &[u8], entry: &str, binary: &[u8], extras: &[Extra]) -> Result<(), String> {
    let mut archive = ZipArchive::new(Cursor::new(zip)).map_err(|error| error.to_string())?;
    let names = archive
        .file_names()
        .map(|name| name.map(|name| name.into_owned()))
        .collect::<Result<Vec<String>, _>>()
        .map_err(|error| error.to_string())?;
    let expected: Vec<&str> = std::iter::once(entry)
        .chain(extras.iter().map(|extra| extra.name.as_str()))
        .collect();
    if names != expected {
        return Err(format!("it should hold {expected:?}, it holds {names:?}"));
    }
    let mut file = archive.by_index(0).map_err(|error| error.to_string())?;
    if file.unix_mode() != Some(MODE) {
        return Err(format!(
            "{entry} has mode {:o}, Lambda needs {MODE:o}",
            file.unix_mode().unwrap_or(0)
        ));
    }
    if file.compression() != CompressionMethod::Deflated {
        return Err(format!(
            "{entry} is stored with {}, not deflated",
            file.compression()
        ));
    }
    let mut content = Vec::with_capacity(binary.len());
    file.read_to_end(&mut content)
        .map_err(|error| error.to_string())?;
    if content != binary {
        return Err(format!("{entry} in the zip differs from the binary"));
    }
    Ok(())
}

/// Writes beside the file and renames, so an interrupted run leaves the old file or the new
/// one, never half of one.
fn replace_file(path: &Path, bytes: &[u8], mode: u32) -> Result<(), Error> {
    let temporary = path.with_extension("partial");
    fs::write(&temporary, bytes).map_err(Error::io(&temporary))?;
    fs::set_permissions(&temporary, fs::Permissions::from_mode(mode))
        .map_err(Error::io(&temporary))?;
    fs::rename(&temporary, path).map_err(Error::io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_seconds_become_utc_calendar_time() {
        assert_eq!(utc(0), (1970, 1, 1, 0, 0, 0));
        assert_eq!(utc(ZIP_EPOCH), (1980, 1, 1, 0, 0, 0));
        // 2024-02-29 12:34:56 UTC: a leap day.
        assert_eq!(utc(1_709_210_096), (2024, 2, 29, 12, 34, 56));
    }

    #[test]
    fn zip_time_is_clamped_to_what_a_zip_can_hold() {
        assert_eq!(
            zip_time(0),
            DateTime::from_date_and_time(1980, 1, 1, 0, 0, 0).unwrap()
        );
        assert_eq!(zip_time(u64::from(u32::MAX) * 4).year(), 2107);
    }

    #[test]
    fn same_binary_and_time_give_the_same_zip_which_passes_the_check() {
        let binary = b"\x7fELF not really, but bytes".repeat(100);
        let time = zip_time(1_700_000_000);
        let first = zip_bytes(ENTRY, &binary, &[], time).unwrap();
        assert_eq!(first, zip_bytes(ENTRY, &binary, &[], time).unwrap());
        check_zip(&first, ENTRY, &binary, &[]).unwrap();
        let error = check_zip(&first, ENTRY, b"other bytes", &[]).unwrap_err();
        assert!(error.contains("differs"), "{error}");
    }

    #[test]
    fn zip_with_the_wrong_mode_is_refused() {
        let options = SimpleFileOptions::default().unix_permissions(0o644);
        let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
        writer.start_file(ENTRY, options).unwrap();
        writer.write_all(b"x").unwrap();
        let zip = writer.finish().unwrap().into_inner();
        let error = check_zip(&zip, ENTRY, b"x", &[]).unwrap_err();
        assert!(error.contains("mode 100644"), "{error}");
    }
}
