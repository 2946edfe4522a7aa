//! A C compiler for the musl targets, for dependencies whose build scripts compile C (ring,
//! aws-lc-sys, a bundled SQLite, a vendored OpenSSL, ...).
//!
//! The compiler is zig's (`zig cc`, clang with musl's headers for every architecture): one
//! program that cross-compiles C for both Lambda architectures from any Linux host, with no
//! sysroot to install. It is found or installed on first need, in this order: `$LAMBDA_ZIP_ZIG`
//! (a zig executable), `zig` on PATH, the copy this tool installed before, else a fresh install
//! of the pinned version from PyPI's `ziglang` wheel (through `python3 -m pip download`, into
//! the user's cache). Build scripts reach it the way cc-rs and cmake look for a cross compiler:
//! `CC_<triple>`, `CXX_<triple>`, `AR_<triple>`, `RANLIB_<triple>`, pointing at small
//! wrapper scripts in the target dir. A `CC_<triple>` of the user's own is kept as it is.
//!
//! Nothing of this runs for a project that compiles no C: its build is exactly as before.

use std::ffi::OsString;
use std::fs;
use std::io::{Cursor, ErrorKind};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::rc::Rc;

use crate::arch::Arch;
use crate::error::Error;
use crate::project::Graph;

/// The zig this tool installs when it finds none: the version its tests build every native
/// crate of `tests/native-crates` and the AWS SDK with, for both architectures.
pub const ZIG_VERSION: &str = "0.15.2";

/// The oldest zig on PATH that is used; an older one is passed over for the pinned version.
const OLDEST_ZIG: (u32, u32) = (0, 13);

/// Build dependencies that mean a package compiles C (or C++, or assembly) for the target.
const C_BUILD_TOOLS: &[&str] = &["cc", "cmake"];

/// The packages linked into the binaries whose build scripts compile C: they have `cc` or
/// `cmake` among their build dependencies. Sorted, each once.
pub fn packages_compiling_c(graph: &Graph<'_>) -> Vec<String> {
    let mut names: Vec<String> = graph
        .linked()
        .filter(|package| {
            graph
                .build_dependencies(&package.id)
                .any(|dep| C_BUILD_TOOLS.contains(&dep))
        })
        .map(|package| package.name.to_string())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Where the compiler came from, for the line that says what was used.
#[derive(Debug, PartialEq)]
pub enum Origin {
    /// `$LAMBDA_ZIP_ZIG`.
    Variable,
    /// `zig` on PATH.
    Path,
    /// Installed by this tool, in an earlier run.
    Cached,
    /// Installed by this tool, now.
    Installed,
}

/// A zig executable and its version.
#[derive(Debug)]
pub struct Zig {
    pub executable: PathBuf,
    pub version: String,
    pub origin: Origin,
}

/// The C compiler for one architecture, as build scripts are given it.
pub enum CCompiler {
    /// The user set `CC_<triple>` (or `TARGET_CC`): their compiler, untouched.
    Users { variable: String },
    /// zig, through the wrapper scripts in `dir`.
    Zig { zig: Rc<Zig>, dir: PathBuf },
}

impl CCompiler {
    /// The environment cargo runs with: the variables cc-rs and cmake read for `arch`.
    pub fn env(&self, arch: Arch) -> Vec<(String, OsString)> {
        let CCompiler::Zig { dir, .. } = self else {
            return Vec::new();
        };
        let triple = arch.triple().replace('-', "_");
        TOOLS
            .iter()
            .map(|tool| {
                (
                    format!("{}_{triple}", tool.variable),
                    dir.join(wrapper_name(arch, tool)).into_os_string(),
                )
            })
            .collect()
    }

    /// One line for the user: which compiler, from where, and how to choose another.
    pub fn describe(&self, arch: Arch) -> String {
        match self {
            CCompiler::Users { variable } => format!("{arch}: yours (${variable})"),
            CCompiler::Zig { zig, .. } => {
                let origin = match zig.origin {
                    Origin::Variable => "$LAMBDA_ZIP_ZIG".to_owned(),
                    Origin::Path => "on PATH".to_owned(),
                    Origin::Cached => format!(
                        "installed by cargo lambda-zip: {}",
                        zig.executable.display()
                    ),
                    Origin::Installed => format!(
                        "installed now from PyPI's ziglang: {}",
                        zig.executable.display()
                    ),
                };
                format!(
                    "{arch}: zig {} cc -target {} ({origin})",
                    zig.version,
                    zig_target(arch)
                )
            }
        }
    }
}

/// One tool a build script may look for, and what runs in its place.
struct Tool {
    /// cc-rs's and cmake's variable, before `_<triple>`.
    variable: &'static str,
    /// The file name of the wrapper, after `<arch>-`.
    name: &'static str,
    /// The zig subcommand.
    subcommand: &'static str,
    /// Whether it compiles (takes `-target`) or archives.
    compiles: bool,
}

const TOOLS: &[Tool] = &[
    Tool {
        variable: "CC",
        name: "cc",
        subcommand: "cc",
        compiles: true,
    },
    Tool {
        variable: "CXX",
        name: "c++",
        subcommand: "c++",
        compiles: true,
    },
    Tool {
        variable: "AR",
        name: "ar",
        subcommand: "ar",
        compiles: false,
    },
    Tool {
        variable: "RANLIB",
        name: "ranlib",
        subcommand: "ranlib",
        compiles: false,
    },
];

fn wrapper_name(arch: Arch, tool: &Tool) -> String {
    format!("{}-{}", arch.name(), tool.name)
}

/// zig's name for the target (`aarch64-linux-musl`): it rejects Rust's triple.
fn zig_target(arch: Arch) -> &'static str {
    match arch {
        Arch::X86_64 => "x86_64-linux-musl",
        Arch::Arm64 => "aarch64-linux-musl",
    }
}

/// The variable of the user's own compiler for `arch`, if they set one: cc-rs reads
/// `CC_<triple>` (with dashes or underscores), then `TARGET_CC`.
fn users_compiler(arch: Arch) -> Option<String> {
    let triple = arch.triple();
    [
        format!("CC_{triple}"),
        format!("CC_{}", triple.replace('-', "_")),
        "TARGET_CC".to_owned(),
    ]
    .into_iter()
    .find(|variable| std::env::var_os(variable).is_some())
}

/// The C compiler for each of `arches`: the user's where they set one, else zig, found or
/// installed once for all of them, with its wrapper scripts written to `wrapper_dir`.
pub fn ensure(arches: &[Arch], wrapper_dir: &Path) -> Result<Vec<CCompiler>, Error> {
    let mut zig: Option<Rc<Zig>> = None;
    let mut compilers = Vec::new();
    for arch in arches {
        if let Some(variable) = users_compiler(*arch) {
            compilers.push(CCompiler::Users { variable });
            continue;
        }
        let zig = match &zig {
            Some(zig) => zig.clone(),
            None => zig.insert(Rc::new(find_or_install_zig()?)).clone(),
        };
        write_wrappers(*arch, &zig.executable, wrapper_dir)?;
        compilers.push(CCompiler::Zig {
            zig,
            dir: wrapper_dir.to_owned(),
        });
    }
    Ok(compilers)
}

/// Writes the four wrappers for `arch` when they are missing or say something else, so an
/// unchanged build sees unchanged files.
fn write_wrappers(arch: Arch, zig: &Path, dir: &Path) -> Result<(), Error> {
    fs::create_dir_all(dir).map_err(Error::io(dir))?;
    for tool in TOOLS {
        let path = dir.join(wrapper_name(arch, tool));
        let script = wrapper_script(arch, tool, zig);
        if fs::read_to_string(&path).is_ok_and(|old| old == script) {
            continue;
        }
        let partial = path.with_extension("partial");
        fs::write(&partial, &script).map_err(Error::io(&partial))?;
        fs::set_permissions(&partial, fs::Permissions::from_mode(0o755))
            .map_err(Error::io(&partial))?;
        fs::rename(&partial, &path).map_err(Error::io(&path))?;
    }
    Ok(())
}

/// A POSIX shell script that runs `zig SUBCOMMAND`. A compiler's drops the `--target=<rust
/// triple>` cc-rs passes to a clang (zig rejects Rust's triples) and names zig's own target;
/// `-fno-sanitize=all` because zig turns on UBSan's checks at low optimization levels, and no
/// runtime for them is linked.
fn wrapper_script(arch: Arch, tool: &Tool, zig: &Path) -> String {
    let zig = shell_quote(&zig.display().to_string());
    if !tool.compiles {
        return format!(
            "#!/bin/sh\n# cargo lambda-zip: {} for {} build scripts.\nexec {zig} {} \"$@\"\n",
            tool.variable,
            arch.triple(),
            tool.subcommand
        );
    }
    format!(
        "#!/bin/sh\n\
         # cargo lambda-zip: the {variable} for {triple} build scripts (cc-rs, cmake).\n\
         skip=\n\
         for arg do\n\
         \x20   shift\n\
         \x20   if [ -n \"$skip\" ]; then skip=; continue; fi\n\
         \x20   case \"$arg\" in\n\
         \x20       --target=*) continue ;;\n\
         \x20       -target) skip=1; continue ;;\n\
         \x20   esac\n\
         \x20   set -- \"$@\" \"$arg\"\n\
         done\n\
         exec {zig} {subcommand} -target {target} -fno-sanitize=all \"$@\"\n",
        variable = tool.variable,
        triple = arch.triple(),
        subcommand = tool.subcommand,
        target = zig_target(arch),
    )
}

/// `'text'`, with any `'` in it closed, escaped and reopened.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

fn find_or_install_zig() -> Result<Zig, Error> {
    if let Some(executable) = std::env::var_os("LAMBDA_ZIP_ZIG") {
        let executable = PathBuf::from(executable);
        let version = zig_version(&executable).ok_or_else(|| Error::ZigUnusable {
            executable: executable.clone(),
        })?;
        return Ok(Zig {
            executable,
            version,
            origin: Origin::Variable,
        });
    }
    if let Some(version) = zig_version(Path::new("zig")).filter(|v| recent_enough(v)) {
        return Ok(Zig {
            executable: "zig".into(),
            version,
            origin: Origin::Path,
        });
    }
    let home = cache_dir()?.join(format!("zig-{ZIG_VERSION}"));
    let executable = home.join("ziglang/zig");
    if let Some(version) = zig_version(&executable) {
        return Ok(Zig {
            executable,
            version,
            origin: Origin::Cached,
        });
    }
    install_zig(&home)?;
    let version = zig_version(&executable).ok_or_else(|| Error::ZigUnusable {
        executable: executable.clone(),
    })?;
    Ok(Zig {
        executable,
        version,
        origin: Origin::Installed,
    })
}

/// `zig version`, when it runs.
fn zig_version(executable: &Path) -> Option<String> {
    let output = Command::new(executable).arg("version").output().ok()?;
    let version = String::from_utf8(output.stdout).ok()?.trim().to_owned();
    (output.status.success() && !version.is_empty()).then_some(version)
}

fn recent_enough(version: &str) -> bool {
    let mut numbers = version
        .split(['.', '-', '+'])
        .map(|part| part.parse::<u32>().ok());
    match (numbers.next().flatten(), numbers.next().flatten()) {
        (Some(major), Some(minor)) => (major, minor) >= OLDEST_ZIG,
        _ => false,
    }
}

/// `$LAMBDA_ZIP_CACHE`, else `$XDG_CACHE_HOME/cargo-lambda-zip`, else
/// `~/.cache/cargo-lambda-zip`.
fn cache_dir() -> Result<PathBuf, Error> {
    if let Some(dir) = std::env::var_os("LAMBDA_ZIP_CACHE") {
        return Ok(dir.into());
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|dir| !dir.is_empty()) {
        return Ok(Path::new(&dir).join("cargo-lambda-zip"));
    }
    match std::env::var_os("HOME") {
        Some(home) => Ok(Path::new(&home).join(".cache/cargo-lambda-zip")),
        None => Err(Error::NoCacheDir),
    }
}

/// Downloads the pinned `ziglang` wheel from PyPI with pip (a wheel is a zip: zig and its C
/// library sources) and unpacks it into `home`, through a folder of its own renamed into
/// place, so a second build running at the same time finds either nothing or all of it.
fn install_zig(home: &Path) -> Result<(), Error> {
    let parent = home.parent().unwrap_or(home);
    fs::create_dir_all(parent).map_err(Error::io(parent))?;
    let staging = tempfile_dir(parent, "zig-download")?;
    let result = download_and_unpack(&staging, home);
    let _ = fs::remove_dir_all(&staging);
    result
}

fn download_and_unpack(staging: &Path, home: &Path) -> Result<(), Error> {
    let wheels = staging.join("wheels");
    let requirement = format!("ziglang=={ZIG_VERSION}");
    let pip_args = [
        "download",
        "--quiet",
        "--disable-pip-version-check",
        "--no-deps",
        "--only-binary=:all:",
        "--dest",
    ];
    // python3 -m pip, else a pip in a venv made for the download (Debian's python3 has venv's
    // ensurepip when python3-venv is installed, and no pip module without python3-pip).
    let mut reasons = Vec::new();
    let mut downloaded = false;
    for pip in pips(staging) {
        let Some(mut command) = pip else { continue };
        command.args(pip_args).arg(&wheels).arg(&requirement);
        match command.output() {
            Ok(output) if output.status.success() => {
                downloaded = true;
                break;
            }
            Ok(output) => reasons.push(crate::toolchain::last_line(&output)),
            Err(error) if error.kind() == ErrorKind::NotFound => {
                reasons.push("python3 is not on PATH".to_owned())
            }
            Err(error) => reasons.push(error.to_string()),
        }
    }
    if !downloaded {
        return Err(Error::ZigNotInstalled {
            reason: reasons.join("; "),
        });
    }
    let wheel = fs::read_dir(&wheels)
        .map_err(Error::io(&wheels))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| path.extension().is_some_and(|ext| ext == "whl"))
        .ok_or_else(|| Error::ZigNotInstalled {
            reason: format!("pip wrote no wheel into {}", wheels.display()),
        })?;
    let bytes = fs::read(&wheel).map_err(Error::io(&wheel))?;
    let unpacked = staging.join("unpacked");
    zip::ZipArchive::new(Cursor::new(bytes))
        .and_then(|mut archive| archive.extract(&unpacked))
        .map_err(|error| Error::ZigNotInstalled {
            reason: format!("{}: {error}", wheel.display()),
        })?;
    // Wheels do not always keep the executable bit.
    let zig = unpacked.join("ziglang/zig");
    fs::set_permissions(&zig, fs::Permissions::from_mode(0o755)).map_err(Error::io(&zig))?;
    match fs::rename(&unpacked, home) {
        Ok(()) => Ok(()),
        // Another build installed it meanwhile.
        Err(_) if home.join("ziglang/zig").is_file() => Ok(()),
        Err(source) => Err(Error::Io {
            path: home.to_owned(),
            source,
        }),
    }
}

/// The ways to run pip, in order; `None` where one cannot be had.
fn pips(staging: &Path) -> impl Iterator<Item = Option<Command>> + '_ {
    let python = std::env::var_os("PYTHON").unwrap_or_else(|| "python3".into());
    let module = {
        let mut command = Command::new(&python);
        command.args(["-m", "pip"]);
        Some(command)
    };
    let venv = std::iter::once_with(move || {
        let venv = staging.join("venv");
        let made = Command::new(&python)
            .args(["-m", "venv"])
            .arg(&venv)
            .output()
            .is_ok_and(|output| output.status.success());
        made.then(|| Command::new(venv.join("bin/pip")))
    });
    std::iter::once(module).chain(venv)
}

/// A new, empty folder in `parent` whose name starts with `prefix`.
fn tempfile_dir(parent: &Path, prefix: &str) -> Result<PathBuf, Error> {
    for attempt in 0..100u32 {
        let dir = parent.join(format!(".{prefix}-{}-{attempt}", std::process::id()));
        match fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(error) if error.kind() == ErrorKind::AlreadyExists => continue,
            Err(source) => return Err(Error::Io { path: dir, source }),
        }
    }
    Err(Error::Io {
        path: parent.to_owned(),
        source: ErrorKind::AlreadyExists.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_older_than_the_oldest_usable_are_passed_over() {
        assert!(recent_enough("0.15.2"));
        assert!(recent_enough("0.13.0"));
        assert!(recent_enough("0.16.0-dev.1234+abcdef"));
        assert!(recent_enough("1.0.0"));
        assert!(!recent_enough("0.12.1"));
        assert!(!recent_enough("nonsense"));
    }

    #[test]
    fn compiler_wrapper_names_zigs_target_and_drops_rusts() {
        let script = wrapper_script(Arch::Arm64, &TOOLS[0], Path::new("/o'k/zig"));
        assert!(script.starts_with("#!/bin/sh\n"), "{script}");
        assert!(
            script.contains(
                "exec '/o'\\''k/zig' cc -target aarch64-linux-musl -fno-sanitize=all \"$@\"\n"
            ),
            "{script}"
        );
        assert!(script.contains("--target=*) continue"), "{script}");
        let ar = wrapper_script(Arch::X86_64, &TOOLS[2], Path::new("/z/zig"));
        assert!(ar.ends_with("exec '/z/zig' ar \"$@\"\n"), "{ar}");
    }
}
