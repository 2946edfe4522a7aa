//! Command-line options and the exit status, the same for every harness.
//!
//! ```
//! use bench_support::cli::Args;
//!
//! let mut args = Args::new(["--rounds", "3"].map(String::from).into_iter(), "usage: …");
//! let mut rounds = 1;
//! while let Some(arg) = args.next() {
//!     match arg.as_str() {
//!         "--rounds" => rounds = args.count(&arg)?,
//!         other => return Err(args.not_an_option(other)),
//!     }
//! }
//! assert_eq!(rounds, 3);
//! # Ok::<(), String>(())
//! ```

use std::fmt::Display;
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};

/// The arguments after the (sub)command, and the usage text to answer `--help` with.
pub struct Args<I> {
    args: I,
    usage: &'static str,
}

impl<I: Iterator<Item = String>> Args<I> {
    pub fn new(args: I, usage: &'static str) -> Args<I> {
        Args { args, usage }
    }

    /// The next option.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<String> {
        self.args.next()
    }

    /// The value that must follow `option`.
    pub fn value(&mut self, option: &str) -> Result<String, String> {
        self.args
            .next()
            .ok_or_else(|| format!("{option} needs a value"))
    }

    /// A count (0 allowed) following `option`.
    pub fn count(&mut self, option: &str) -> Result<u32, String> {
        let text = self.value(option)?;
        text.parse().map_err(|_| format!("not a count: {text}"))
    }

    /// A count above 0 following `option`.
    pub fn count_above_0(&mut self, option: &str) -> Result<u32, String> {
        let text = self.value(option)?;
        match text.parse::<u32>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!("not a count above 0: {text}")),
        }
    }

    /// A CPU number following `option` (`--pin CPU`, for [`crate::process::pin_to_cpu`]).
    pub fn cpu(&mut self, option: &str) -> Result<usize, String> {
        let text = self.value(option)?;
        text.parse()
            .map_err(|_| format!("not a CPU number: {text}"))
    }

    /// The error for an argument no option matched: the usage for `-h` and `--help`, else the
    /// argument named, then the usage.
    pub fn not_an_option(&self, arg: &str) -> String {
        match arg {
            "-h" | "--help" => self.usage.to_owned(),
            other => format!("unknown option {other}\n\n{}", self.usage),
        }
    }
}

/// A progress bar on stderr for `total` steps.
pub fn progress_bar(total: u64) -> Result<ProgressBar, String> {
    Ok(ProgressBar::new(total).with_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} {msg} (eta {eta})")
            .map_err(|e| e.to_string())?
            .progress_chars("=> "),
    ))
}

/// Ends `progress` and says which invocation failed first, if one did (the report counts them).
pub fn finish(progress: &ProgressBar, first_failure: Option<&str>) {
    progress.finish();
    if let Some(failure) = first_failure {
        eprintln!("first failure: {failure}");
    }
}

/// The exit status of a harness: 2 for bad options (their message printed), 1 when the run
/// failed or some invocations failed (`failures`, then `where_to_look`, printed), 0 otherwise.
pub fn exit<O, N: Display + PartialEq + Default>(
    options: Result<O, String>,
    run: impl FnOnce(&O) -> Result<N, String>,
    where_to_look: &str,
) -> ExitCode {
    let options = match options {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(failures) if failures == N::default() => ExitCode::SUCCESS,
        Ok(failures) => {
            eprintln!("{failures} invocations failed; {where_to_look}");
            ExitCode::FAILURE
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
