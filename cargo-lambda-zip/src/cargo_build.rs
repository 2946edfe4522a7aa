//! One `cargo build` per architecture: cargo's JSON messages drive the progress bar and say
//! where each binary is; its stderr (status lines and rendered diagnostics) is passed through
//! and read for the reason of a failure.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use cargo_metadata::Message;
use indicatif::{ProgressBar, ProgressStyle};

use crate::arch::Arch;
use crate::c_compiler::CCompiler;
use crate::error::Error;
use crate::project::{Bin, Graph};
use crate::settings::Settings;

/// One architecture's build.
pub struct Build<'a> {
    pub manifest: &'a Path,
    pub arch: Arch,
    pub bins: &'a [Bin],
    pub graph: &'a Graph<'a>,
    pub settings: &'a Settings,
    pub locked: bool,
    /// The user's `--features`, `--no-default-features`, `--all-features`, for cargo.
    pub feature_args: &'a [String],
    /// The user's `--config` values, after the tool's so that they win.
    pub config: &'a [String],
    /// The C compiler build scripts are given, when a dependency compiles C.
    pub c_compiler: Option<&'a CCompiler>,
    /// Where cargo's whole stderr is written.
    pub log: &'a Path,
}

impl Build<'_> {
    /// Runs cargo; returns each binary's executable, by binary name.
    pub fn run(&self) -> Result<BTreeMap<String, PathBuf>, Error> {
        let triple = self.arch.triple();
        let mut command = self.command();
        let program = command.get_program().to_string_lossy().into_owned();
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| Error::Spawn { program, source })?;

        let bar = ProgressBar::new(self.graph.expected_artifacts(self.bins.len()));
        bar.set_style(
            ProgressStyle::with_template("{prefix:>8} [{bar:30}] {pos}/{len} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_prefix(self.arch.name());

        let stderr = child.stderr.take();
        let stderr_bar = bar.clone();
        let log = std::fs::File::create(self.log).ok();
        let diagnosis = std::thread::spawn(move || pass_through(stderr, log, &stderr_bar));

        let mut executables = BTreeMap::new();
        if let Some(stdout) = child.stdout.take() {
            for message in Message::parse_stream(BufReader::new(stdout)).map_while(Result::ok) {
                match message {
                    Message::CompilerArtifact(artifact) => {
                        if bar.position() + 1 > bar.length().unwrap_or(0) {
                            bar.set_length(bar.position() + 1);
                        }
                        bar.inc(1);
                        // What finished last: the package's name (a build script's target is
                        // called build-script-build, whatever the package).
                        let name = self.graph.find_name(&artifact.package_id);
                        bar.set_message(name.unwrap_or(&artifact.target.name).to_owned());
                        let wanted = self.bins.iter().any(|bin| {
                            bin.package == artifact.package_id && bin.name == artifact.target.name
                        });
                        if let (true, Some(executable)) =
                            (wanted && artifact.target.is_bin(), artifact.executable)
                        {
                            executables
                                .insert(artifact.target.name, executable.into_std_path_buf());
                        }
                    }
                    Message::TextLine(line) => bar.suspend(|| eprintln!("{line}")),
                    _ => {}
                }
            }
        }
        let status = child.wait().map_err(|source| Error::Spawn {
            program: "cargo".to_owned(),
            source,
        })?;
        let failure = diagnosis.join().unwrap_or(None);
        bar.finish_and_clear();

        if !status.success() {
            return Err(match failure {
                Some(Failure::BuildScript(krate, reason)) => Error::BuildScriptFailed {
                    pulled_in: self
                        .graph
                        .find_linked(&krate)
                        .map(|id| format!("; {}", self.graph.pulled_in_by(id)))
                        .unwrap_or_default(),
                    krate,
                    triple,
                    reason: reason.unwrap_or_else(|| "it printed no reason".to_owned()),
                    log: self.log.to_owned(),
                },
                Some(Failure::MissingLibrary(library)) => Error::NativeLibraryMissing {
                    triple,
                    advice: missing_library_advice(&library),
                    library,
                },
                Some(Failure::Compile(krate)) => Error::CompileFailed { krate, triple },
                None => Error::BuildFailed { triple },
            });
        }
        for bin in self.bins {
            if !executables.contains_key(&bin.name) {
                return Err(Error::NoExecutable {
                    bin: bin.name.clone(),
                    triple,
                });
            }
        }
        Ok(executables)
    }

    fn command(&self) -> Command {
        let mut command = self.settings.toolchain().cargo();
        command
            .arg("build")
            .arg("--manifest-path")
            .arg(self.manifest)
            .args(["--target", self.arch.triple()])
            .arg("--message-format=json-render-diagnostics");
        if self.locked {
            command.arg("--locked");
        }
        // Cargo writes to a pipe here; keep its colours when the user sees a terminal.
        if std::io::stderr().is_terminal() && std::env::var_os("CARGO_TERM_COLOR").is_none() {
            command.arg("--color=always");
        }
        let mut packages: Vec<&str> = Vec::new();
        for bin in self.bins {
            let package = self.graph.package_name(&bin.package);
            if !packages.contains(&package) {
                packages.push(package);
            }
        }
        for package in packages {
            command.args(["--package", package]);
        }
        for bin in self.bins {
            command.args(["--bin", &bin.name]);
        }
        command.args(self.feature_args);
        command.args(self.settings.cargo_args(self.arch));
        for value in self.config {
            command.args(["--config", value]);
        }
        if let Some(compiler) = self.c_compiler {
            command.envs(compiler.env(self.arch));
        }
        if let Some(flags) = self.settings.encoded_rustflags(self.arch) {
            command
                .env("CARGO_ENCODED_RUSTFLAGS", flags)
                .env_remove("RUSTFLAGS");
        }
        command
    }
}

/// What to do about a library the link did not find.
fn missing_library_advice(library: &str) -> &'static str {
    match library {
        "stdc++" | "c++" => {
            "a dependency compiles C++ and links the C++ standard library, which this build does not provide: use a C or pure-Rust alternative"
        }
        _ => {
            "a dependency links a system library: turn on the crate's feature that compiles it from source into the binary (often bundled, vendored or static), or use a pure-Rust crate"
        }
    }
}

/// Why cargo failed, as read from its stderr, most specific first.
#[derive(Debug, PartialEq)]
enum Failure {
    /// `failed to run custom build command for `openssl-sys v0.9.109``, and the line of the
    /// script's output that says why, when one does.
    BuildScript(String, Option<String>),
    /// `rust-lld: error: unable to find library -lssl`
    MissingLibrary(String),
    /// `could not compile `app` (bin "app")`
    Compile(String),
}

impl Failure {
    fn rank(&self) -> u8 {
        match self {
            Failure::BuildScript(..) => 0,
            Failure::MissingLibrary(_) => 1,
            Failure::Compile(_) => 2,
        }
    }
}

/// Copies cargo's stderr to the log, and to ours above the progress bar, except what a failed
/// build script printed: its environment and every command it ran, often hundreds of lines,
/// which go to the log only. Returns the most specific failure cargo mentions.
fn pass_through(
    stderr: Option<impl std::io::Read>,
    mut log: Option<std::fs::File>,
    bar: &ProgressBar,
) -> Option<Failure> {
    let mut failure: Option<Failure> = None;
    let mut reader = BufReader::new(stderr?);
    let mut line = Vec::new();
    // Inside a failed build script's report: its crate, and the lines so far.
    let mut script: Option<(String, Vec<String>)> = None;
    while reader.read_until(b'\n', &mut line).unwrap_or(0) > 0 {
        if let Some(log) = log.as_mut() {
            let _ = log.write_all(&line);
        }
        let plain = strip_ansi(&String::from_utf8_lossy(&line));
        let text = plain.trim_end();
        if let Some((_, lines)) = script.as_mut() {
            // The report is indented, with `Caused by:` and cargo's `note:` at the margin;
            // anything else at the margin (`warning: build failed, waiting for other jobs`)
            // is cargo again.
            let in_report = text.is_empty()
                || text.starts_with(' ')
                || text == "Caused by:"
                || text.starts_with("note: ");
            if in_report {
                lines.push(text.to_owned());
                line.clear();
                continue;
            }
            if let Some((krate, lines)) = script.take() {
                keep(
                    &mut failure,
                    Failure::BuildScript(krate, build_script_reason(&lines)),
                );
            }
        }
        bar.suspend(|| {
            let mut out = std::io::stderr().lock();
            let _ = out.write_all(&line);
            let _ = out.flush();
        });
        match failure_in(text) {
            Some(Failure::BuildScript(krate, _)) => script = Some((krate, Vec::new())),
            Some(found) => keep(&mut failure, found),
            None => {}
        }
        line.clear();
    }
    if let Some((krate, lines)) = script {
        keep(
            &mut failure,
            Failure::BuildScript(krate, build_script_reason(&lines)),
        );
    }
    failure
}

/// Keeps the more specific of two failures, the first of two alike.
fn keep(failure: &mut Option<Failure>, found: Failure) {
    if failure
        .as_ref()
        .is_none_or(|known| found.rank() < known.rank())
    {
        *failure = Some(found);
    }
}

/// The longest reason a build script's failure is given in the one line.
const REASON_CHARS: usize = 300;

/// The line of a failed build script's output that says why, in this order: a compiler's
/// error (`sqlite3.c:1:10: fatal error: 'x.h' file not found`, forwarded by cc-rs as a
/// `cargo:warning=`), cc-rs's own (`failed to find tool "x86_64-linux-musl-gcc"`), a panic's
/// message, else the last line the script wrote to stderr.
fn build_script_reason(report: &[String]) -> Option<String> {
    let lines: Vec<&str> = report
        .iter()
        .map(|line| {
            let line = line.trim();
            line.strip_prefix("cargo:warning=")
                .or_else(|| line.strip_prefix("cargo::warning="))
                .unwrap_or(line)
                .trim()
        })
        .collect();
    let compiler = lines.iter().find(|line| {
        (line.contains(": error: ") || line.contains(": fatal error: "))
            && !line.starts_with("thread ")
    });
    let cc_rs = lines.iter().find_map(|line| {
        ["error occurred in cc-rs: ", "error occurred: "]
            .iter()
            .find_map(|marker| line.split_once(marker).map(|(_, rest)| rest))
    });
    let panic = lines
        .iter()
        .position(|line| line.starts_with("thread ") && line.contains(" panicked at "))
        .and_then(|at| lines.get(at + 1))
        .filter(|line| !line.is_empty());
    let last_stderr = lines
        .iter()
        .position(|line| *line == "--- stderr")
        .and_then(|at| lines[at + 1..].iter().rfind(|line| !line.is_empty()));
    let reason: &str = compiler.or(cc_rs.as_ref()).or(panic).or(last_stderr)?;
    Some(match reason.char_indices().nth(REASON_CHARS) {
        Some((at, _)) => format!("{}…", &reason[..at]),
        None => reason.to_owned(),
    })
}

fn failure_in(line: &str) -> Option<Failure> {
    let quoted = |after: &str| -> Option<String> {
        let rest = &line[line.find(after)? + after.len()..];
        let name = rest.split(['`', ' ']).next()?;
        (!name.is_empty()).then(|| name.to_owned())
    };
    if let Some(krate) = quoted("failed to run custom build command for `") {
        return Some(Failure::BuildScript(krate, None));
    }
    if let Some(rest) = line.split("unable to find library -l").nth(1) {
        let library: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || "_-+.".contains(*c))
            .collect();
        if !library.is_empty() {
            return Some(Failure::MissingLibrary(library));
        }
    }
    quoted("could not compile `").map(Failure::Compile)
}

/// Cargo's stderr without colour codes (`ESC [ ... letter`), for matching.
fn strip_ansi(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failing_build_script_names_its_crate() {
        let line = "error: failed to run custom build command for `openssl-sys v0.9.109`";
        assert_eq!(
            failure_in(line),
            Some(Failure::BuildScript("openssl-sys".into(), None))
        );
        let line = "error: failed to run custom build command for `libfoo-sys v0.1.0 (/tmp/x/vendor/libfoo-sys)`";
        assert_eq!(
            failure_in(line),
            Some(Failure::BuildScript("libfoo-sys".into(), None))
        );
    }

    fn report(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|line| (*line).to_owned()).collect()
    }

    #[test]
    fn build_script_reason_prefers_the_compilers_error_over_cc_rs_and_the_env_dump() {
        let lines = report(&[
            "  process didn't exit successfully: `/t/build-script-build` (exit status: 1)",
            "  --- stdout",
            "  cargo:rerun-if-env-changed=CC_aarch64-unknown-linux-musl",
            "  cargo:warning=src/broken.c:1:10: fatal error: 'missing.h' file not found",
            "  --- stderr",
            "  error occurred in cc-rs: command did not execute successfully (status code exit status: 1): LC_ALL=\"C\" \"/t/arm64-cc\" \"-Os\"",
        ]);
        assert_eq!(
            build_script_reason(&lines).as_deref(),
            Some("src/broken.c:1:10: fatal error: 'missing.h' file not found")
        );
        let lines = report(&[
            "  --- stderr",
            "",
            "  error occurred in cc-rs: failed to find tool \"x86_64-linux-musl-gcc\": No such file or directory (os error 2)",
        ]);
        assert_eq!(
            build_script_reason(&lines).as_deref(),
            Some(
                "failed to find tool \"x86_64-linux-musl-gcc\": No such file or directory (os error 2)"
            )
        );
    }

    #[test]
    fn build_script_reason_is_a_panics_message_else_the_last_stderr_line_cut_to_length() {
        let lines = report(&[
            "  --- stderr",
            "  thread 'main' panicked at /c/openssl-src/src/lib.rs:611:9:",
            "  Error configuring OpenSSL build: 'perl' reported failure",
            "  note: run with `RUST_BACKTRACE=1`",
        ]);
        assert_eq!(
            build_script_reason(&lines).as_deref(),
            Some("Error configuring OpenSSL build: 'perl' reported failure")
        );
        let long = format!("  --- stderr\n  {}", "x".repeat(400));
        let lines = report(&long.lines().collect::<Vec<_>>());
        let reason = build_script_reason(&lines).unwrap();
        assert_eq!(reason.chars().count(), REASON_CHARS + 1);
        assert!(reason.ends_with('…'));
        assert_eq!(build_script_reason(&report(&["  --- stdout", ""])), None);
    }

    #[test]
    fn a_missing_cpp_standard_library_is_told_apart_from_a_system_library() {
        assert!(missing_library_advice("stdc++").contains("compiles C++"));
        assert!(missing_library_advice("c++").contains("compiles C++"));
        assert!(missing_library_advice("sqlite3").contains("bundled, vendored or static"));
    }

    #[test]
    fn missing_static_library_is_named() {
        let line = "          rust-lld: error: unable to find library -lssl";
        assert_eq!(
            failure_in(line),
            Some(Failure::MissingLibrary("ssl".into()))
        );
    }

    #[test]
    fn compile_error_names_the_crate_even_in_colour() {
        let line = strip_ansi(
            "\x1b[1m\x1b[91merror\x1b[0m: could not compile `app` (bin \"app\") due to 1 previous error",
        );
        assert_eq!(failure_in(&line), Some(Failure::Compile("app".into())));
        assert_eq!(failure_in("   Compiling app v0.1.0"), None);
    }
}
