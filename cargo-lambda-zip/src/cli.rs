//! The command line: what the user asked for, or a usage error.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::arch::Arch;

pub const HELP: &str = "\
Usage: cargo lambda-zip [OPTIONS]

Builds a Cargo project's binaries as static musl Lambda bootstraps and zips them:
  <target dir>/lambda/<arch>/<bin>/bootstrap      the binary
  <target dir>/lambda/<arch>/<bin>/bootstrap.zip  what Lambda takes (provided.al2023 / al2)

Options:
  --manifest-path PATH  the project's Cargo.toml (default: the nearest Cargo.toml from here up)
  --bin NAME            a binary to package; repeat for several (default: every binary of the
                        package, or of every member of a virtual workspace)
  --arch ARCH           x86_64, arm64 or all (default: all)
  --profile NAME        build with your own cargo profile NAME as it is (e.g. --profile release);
                        default: the release profile with opt-level=\"z\", lto, codegen-units=1,
                        strip, panic=\"unwind\"
  --release             accepted for cargo's and cargo-lambda's sake: release is the default
  -F, --features LIST   features to turn on (comma or space separated; repeatable), as for cargo
  --no-default-features do not turn on the default features
  --all-features        turn on every feature
  --extension           package each binary as an external extension's layer instead:
                        <arch>/<bin>/extension.zip holding extensions/<bin> (mode 0755)
  --include PATH        add a file, or a folder with everything in it, to each zip beside
                        bootstrap, under its own name (repeatable): config files, templates
  --tiny                smallest binaries, on nightly Rust: the standard library is compiled
                        with the binary, without backtrace support (-Z build-std); panics are
                        still caught (panic=\"unwind\"). Adds nightly's rust-src with rustup
  --out-dir DIR         write DIR/<arch>/<bin>/ instead of <target dir>/lambda/<arch>/<bin>/
  --config KEY=VALUE    passed to cargo as --config after the tool's own (repeatable), e.g.
                        'profile.release.package.ureq-proto.opt-level=\"s\"'
  --locked              pass --locked to cargo: fail if Cargo.lock would change
  --no-native-check     build even when a dependency needs a system C library (e.g. OpenSSL)
  -h, --help            show this help
  -V, --version         show the version

Binaries are linked by the rust-lld that ships with Rust (unless CARGO_TARGET_<TRIPLE>_LINKER is
set); missing rustup targets are added. When a dependency compiles C (ring, aws-lc-sys, a bundled
SQLite, a vendored OpenSSL), its build scripts get zig's C compiler for the musl target: zig on
PATH (or LAMBDA_ZIP_ZIG), else the one this tool installs on first need from PyPI into
~/.cache/cargo-lambda-zip (LAMBDA_ZIP_CACHE moves it); CC_<triple> keeps a compiler of yours. RUSTFLAGS are kept. SOURCE_DATE_EPOCH sets the zip
timestamps (default 1980-01-01): the same sources give byte-identical zips.
";

/// What to do.
// Parsed once per run: boxing Options would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, PartialEq)]
pub enum Command {
    Build(Options),
    Help,
    Version,
}

/// What to build and how.
#[derive(Debug, PartialEq)]
pub struct Options {
    pub manifest_path: Option<PathBuf>,
    /// Empty: every binary.
    pub bins: Vec<String>,
    pub arches: Vec<Arch>,
    /// `Some`: the user's own profile, unchanged; `None`: release with the size settings.
    pub profile: Option<String>,
    pub out_dir: Option<PathBuf>,
    pub locked: bool,
    pub native_check: bool,
    /// `--tiny`: nightly, with the standard library built for the binary.
    pub tiny: bool,
    pub features: Features,
    /// `--include`: files and folders added to each zip.
    pub include: Vec<PathBuf>,
    /// `--config`: cargo configuration values of the user's, given to cargo after the tool's.
    pub config: Vec<String>,
    /// `--extension`: layer zips of external extensions, not function zips.
    pub extension: bool,
}

/// The features asked for, as cargo takes them.
#[derive(Debug, Default, PartialEq)]
pub struct Features {
    pub features: Vec<String>,
    pub no_default: bool,
    pub all: bool,
}

impl Features {
    /// The arguments for `cargo build` and `cargo metadata`.
    pub fn cargo_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if !self.features.is_empty() {
            args.extend(["--features".to_owned(), self.features.join(",")]);
        }
        if self.no_default {
            args.push("--no-default-features".to_owned());
        }
        if self.all {
            args.push("--all-features".to_owned());
        }
        args
    }

    /// Whether `feature` of `package` is on, as far as the command line and the package's
    /// default features tell.
    pub fn enables(&self, package: &str, feature: &str, defaults: &[String]) -> bool {
        self.all
            || (!self.no_default && defaults.iter().any(|default| default == feature))
            || self
                .features
                .iter()
                .any(|asked| asked == feature || *asked == format!("{package}/{feature}"))
    }
}

/// A command line that cannot be understood; the message is one line.
#[derive(Debug, PartialEq)]
pub struct UsageError(pub String);

/// Parses the arguments after the program name. When cargo runs `cargo lambda-zip ARGS`, it
/// passes `lambda-zip ARGS`; both forms are accepted.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Command, UsageError> {
    let mut args: Vec<OsString> = args.into_iter().collect();
    if args.first().is_some_and(|first| first == "lambda-zip") {
        args.remove(0);
    }
    parse_options(args).map_err(|error| UsageError(error.to_string()))
}

fn parse_options(args: Vec<OsString>) -> Result<Command, lexopt::Error> {
    use lexopt::prelude::*;

    let mut options = Options {
        manifest_path: None,
        bins: Vec::new(),
        arches: Arch::ALL.to_vec(),
        profile: None,
        out_dir: None,
        locked: false,
        native_check: true,
        tiny: false,
        features: Features::default(),
        include: Vec::new(),
        config: Vec::new(),
        extension: false,
    };
    let mut release = false;
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next()? {
        match arg {
            Long("manifest-path") => options.manifest_path = Some(parser.value()?.into()),
            Long("bin") => {
                let name = parser.value()?.string()?;
                if !options.bins.contains(&name) {
                    options.bins.push(name);
                }
            }
            Long("arch") => {
                let value = parser.value()?.string()?;
                options.arches = Arch::parse_list(&value).ok_or_else(|| {
                    format!("unknown arch '{value}': expected x86_64, arm64 or all")
                })?;
            }
            Long("profile") => options.profile = Some(parser.value()?.string()?),
            Long("out-dir") => options.out_dir = Some(parser.value()?.into()),
            Long("locked") => options.locked = true,
            Long("no-native-check") => options.native_check = false,
            Long("tiny") => options.tiny = true,
            Long("release") => release = true,
            Short('F') | Long("features") => {
                let value = parser.value()?.string()?;
                options.features.features.extend(
                    value
                        .split([',', ' '])
                        .filter(|feature| !feature.is_empty())
                        .map(str::to_owned),
                );
            }
            Long("no-default-features") => options.features.no_default = true,
            Long("all-features") => options.features.all = true,
            Long("include") => options.include.push(parser.value()?.into()),
            Long("config") => options.config.push(parser.value()?.string()?),
            Long("extension") => options.extension = true,
            Short('h') | Long("help") => return Ok(Command::Help),
            Short('V') | Long("version") => return Ok(Command::Version),
            _ => return Err(arg.unexpected()),
        }
    }
    if let (true, Some(profile)) = (release, &options.profile)
        && profile != "release"
    {
        return Err(format!("--release and --profile {profile} ask for two profiles").into());
    }
    Ok(Command::Build(options))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_strs(args: &[&str]) -> Result<Command, UsageError> {
        parse(args.iter().map(OsString::from))
    }

    #[test]
    fn cargo_subcommand_name_is_skipped() {
        assert_eq!(parse_strs(&["lambda-zip", "--help"]), Ok(Command::Help));
        assert_eq!(parse_strs(&["--help"]), Ok(Command::Help));
    }

    #[test]
    fn bins_are_collected_once_each_and_arch_all_is_the_default() {
        let Ok(Command::Build(options)) =
            parse_strs(&["--bin", "a", "--bin=b", "--bin", "a", "--locked"])
        else {
            panic!("expected a build");
        };
        assert_eq!(options.bins, ["a", "b"]);
        assert_eq!(options.arches, Arch::ALL);
        assert!(options.locked);
        assert!(options.native_check);
        assert!(!options.tiny);
        let Ok(Command::Build(options)) = parse_strs(&["--tiny"]) else {
            panic!("expected a build");
        };
        assert!(options.tiny);
    }

    #[test]
    fn feature_options_are_passed_to_cargo_as_cargo_takes_them() {
        let Ok(Command::Build(options)) = parse_strs(&[
            "--features",
            "a,b c",
            "-F",
            "app/d",
            "--no-default-features",
            "--all-features",
            "--release",
            "--include",
            "config.toml",
        ]) else {
            panic!("expected a build");
        };
        assert_eq!(
            options.features.cargo_args(),
            [
                "--features",
                "a,b,c,app/d",
                "--no-default-features",
                "--all-features"
            ]
        );
        assert_eq!(options.include, [PathBuf::from("config.toml")]);
        assert_eq!(options.profile, None);
        let features = Features {
            features: vec!["x".into(), "app/y".into()],
            no_default: true,
            all: false,
        };
        let defaults = ["d".to_owned()];
        assert!(features.enables("app", "x", &defaults));
        assert!(features.enables("app", "y", &defaults));
        assert!(!features.enables("other", "y", &defaults));
        assert!(!features.enables("app", "d", &defaults));
    }

    #[test]
    fn release_with_another_profile_is_a_usage_error() {
        let Err(UsageError(message)) = parse_strs(&["--release", "--profile", "dev"]) else {
            panic!("expected a usage error");
        };
        assert!(message.contains("--release and --profile dev"), "{message}");
        assert!(parse_strs(&["--release", "--profile", "release"]).is_ok());
    }

    #[test]
    fn unknown_arch_and_unknown_option_are_usage_errors() {
        let Err(UsageError(message)) = parse_strs(&["--arch", "mips"]) else {
            panic!("expected a usage error");
        };
        assert!(message.contains("unknown arch 'mips'"), "{message}");
        assert!(parse_strs(&["--frobnicate"]).is_err());
        assert!(parse_strs(&["--bin"]).is_err());
    }
}
