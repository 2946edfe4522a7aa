//! What the tool applies to the user's build, all of it through cargo's command line and
//! environment, never by editing their Cargo.toml: the size profile, the linker, the rustflags.

use std::path::{Path, PathBuf};

use crate::arch::Arch;
use crate::toolchain::{TINY_TOOLCHAIN, Toolchain};

/// The release profile for Lambda, as `--config profile.release.<key>=<value>`. `panic` stays
/// "unwind": a runtime can then catch a handler's panic and report it for that invocation.
const SIZE_PROFILE: &[(&str, &str)] = &[
    ("opt-level", "\"z\""),
    ("lto", "true"),
    ("codegen-units", "1"),
    ("strip", "true"),
    ("panic", "\"unwind\""),
];

/// x86_64 musl binaries are static-pie: RELR packs their self-relocations into a few hundred
/// bytes (-34 KB on a small function). arm64 musl binaries are not position-independent, so
/// there is nothing to pack there.
const RELR: &str = "-Clink-arg=-zpack-relative-relocs";

/// `--tiny`: nightly cargo compiles the standard library with the binary, at the binary's
/// profile, and without std's `backtrace` feature: no DWARF symbolizer (gimli, addr2line,
/// miniz_oxide, rustc-demangle) is linked for a backtrace Lambda never shows. `panic-unwind`
/// keeps panics catchable; `optimize_for_size` picks std's smaller algorithms.
const TINY_CARGO_ARGS: &[&str] = &[
    "-Zbuild-std=std,panic_unwind",
    "-Zbuild-std-features=panic-unwind,optimize_for_size",
];

/// `--tiny`: unwind tables only for functions that can unwind (a panic still finds every frame
/// it crosses); the others' tables only served backtraces, which `--tiny` leaves out anyway.
const TINY_RUSTFLAGS: &[&str] = &["-Cforce-unwind-tables=no"];

/// The linker: lld as shipped with Rust links musl targets against Rust's own musl and crt
/// objects, so no C cross toolchain is needed.
const LINKER: &str = "rust-lld";

pub struct Settings {
    /// `Some`: the user's own profile, as it is.
    own_profile: Option<String>,
    /// Source paths compiled into the binary (panic locations) are rewritten to fixed names, so
    /// the bytes do not depend on where the project or the cargo home is.
    remaps: Vec<(PathBuf, &'static str)>,
    /// The user's flags from `CARGO_ENCODED_RUSTFLAGS` or `RUSTFLAGS`, if they set either.
    env_rustflags: Option<Vec<String>>,
    /// `--tiny`: build with nightly, the standard library compiled with the binary, in this
    /// target directory of its own (nightly's artifacts would replace the stable ones in the
    /// usual one, and each build would then recompile everything).
    tiny: Option<PathBuf>,
}

impl Settings {
    pub fn new(
        own_profile: Option<String>,
        tiny: bool,
        workspace_root: &Path,
        target_dir: &Path,
    ) -> Settings {
        let cargo_home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")));
        // Later remaps win where prefixes nest: the target dir is often inside the workspace.
        let mut remaps: Vec<(PathBuf, &'static str)> = Vec::new();
        if let Some(cargo_home) = cargo_home {
            remaps.push((cargo_home, "/cargo"));
        }
        remaps.push((workspace_root.to_owned(), "/build"));
        remaps.push((target_dir.to_owned(), "/target"));
        let env_rustflags = match (
            std::env::var("CARGO_ENCODED_RUSTFLAGS"),
            std::env::var("RUSTFLAGS"),
        ) {
            (Ok(encoded), _) => Some(
                encoded
                    .split('\x1f')
                    .filter(|f| !f.is_empty())
                    .map(str::to_owned)
                    .collect(),
            ),
            (_, Ok(plain)) => Some(plain.split_whitespace().map(str::to_owned).collect()),
            _ => None,
        };
        Settings {
            own_profile,
            remaps,
            env_rustflags,
            tiny: tiny.then(|| target_dir.join("tiny")),
        }
    }

    /// The toolchain that builds: nightly with `--tiny`.
    pub fn toolchain(&self) -> Toolchain {
        match self.tiny {
            Some(_) => Toolchain::Nightly,
            None => Toolchain::Current,
        }
    }

    /// The flags this tool adds for `arch`.
    fn rustflags(&self, arch: Arch) -> Vec<String> {
        let mut flags: Vec<String> = self
            .remaps
            .iter()
            .map(|(from, to)| format!("--remap-path-prefix={}={to}", from.display()))
            .collect();
        if arch == Arch::X86_64 {
            flags.push(RELR.to_owned());
        }
        if self.tiny.is_some() {
            flags.extend(TINY_RUSTFLAGS.iter().map(|f| (*f).to_owned()));
        }
        flags
    }

    fn linker_is_users(arch: Arch) -> bool {
        std::env::var_os(arch.linker_variable()).is_some()
    }

    /// Arguments for `cargo build` for `arch`: the profile, and `--config` for the profile
    /// settings, the linker and (when the user set no rustflags in the environment) the
    /// rustflags, which cargo then joins with any `target.<triple>.rustflags` of theirs.
    pub fn cargo_args(&self, arch: Arch) -> Vec<String> {
        let mut args = Vec::new();
        match &self.own_profile {
            Some(profile) => args.extend(["--profile".to_owned(), profile.clone()]),
            None => {
                args.push("--release".to_owned());
                for (key, value) in SIZE_PROFILE {
                    args.extend([
                        "--config".to_owned(),
                        format!("profile.release.{key}={value}"),
                    ]);
                }
            }
        }
        if let Some(target_dir) = &self.tiny {
            args.extend(TINY_CARGO_ARGS.iter().map(|a| (*a).to_owned()));
            args.extend(["--target-dir".to_owned(), target_dir.display().to_string()]);
        }
        let triple = arch.triple();
        if !Self::linker_is_users(arch) {
            args.extend([
                "--config".to_owned(),
                format!("target.{triple}.linker=\"{LINKER}\""),
            ]);
        }
        if self.env_rustflags.is_none() {
            let flags: Vec<String> = self
                .rustflags(arch)
                .iter()
                .map(|f| toml_string(f))
                .collect();
            args.extend([
                "--config".to_owned(),
                format!("target.{triple}.rustflags=[{}]", flags.join(", ")),
            ]);
        }
        args
    }

    /// `CARGO_ENCODED_RUSTFLAGS` for `arch` when the user set rustflags in the environment
    /// (which override any in cargo's config): theirs, then ours.
    pub fn encoded_rustflags(&self, arch: Arch) -> Option<String> {
        let users = self.env_rustflags.as_ref()?;
        let mut flags = users.clone();
        flags.extend(self.rustflags(arch));
        Some(flags.join("\x1f"))
    }

    /// What is applied, for the user: a few lines, each starting with two spaces.
    pub fn describe(&self, arches: &[Arch]) -> String {
        let profile = match &self.own_profile {
            Some(profile) => format!("{profile}, yours, unchanged (--profile)"),
            None => {
                let settings: Vec<String> = SIZE_PROFILE
                    .iter()
                    .map(|(key, value)| format!("{key}={value}"))
                    .collect();
                format!(
                    "release with {} (--profile NAME keeps yours)",
                    settings.join(" ")
                )
            }
        };
        let linkers: Vec<String> = match arches.iter().any(|arch| Self::linker_is_users(*arch)) {
            false => vec![format!(
                "{LINKER} (CARGO_TARGET_<TRIPLE>_LINKER chooses another)"
            )],
            true => arches
                .iter()
                .map(|arch| match Self::linker_is_users(*arch) {
                    true => format!("{arch}: yours (${})", arch.linker_variable()),
                    false => format!("{arch}: {LINKER}"),
                })
                .collect(),
        };
        let remaps: Vec<String> = self
            .remaps
            .iter()
            .map(|(from, to)| format!("{}={to}", from.display()))
            .collect();
        let source = match self.env_rustflags {
            Some(_) => "after your RUSTFLAGS",
            None => "via --config, with your target rustflags",
        };
        let relr = match arches.contains(&Arch::X86_64) {
            true => format!("; x86_64: {RELR}"),
            false => String::new(),
        };
        let tiny = match self.tiny {
            Some(_) => format!(
                "; {}\n  std        built by {TINY_TOOLCHAIN} with the binary: {} (--tiny)",
                TINY_RUSTFLAGS.join(" "),
                TINY_CARGO_ARGS.join(" ")
            ),
            None => String::new(),
        };
        format!(
            "  profile    {profile}\n  linker     {}\n  rustflags  --remap-path-prefix {}{relr} ({source}){tiny}\n",
            linkers.join(", "),
            remaps.join(" "),
        )
    }
}

/// A TOML basic string: what `--config` values are written in.
fn toml_string(value: &str) -> String {
    let mut quoted = String::with_capacity(value.len() + 2);
    quoted.push('"');
    for c in value.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            c if c.is_control() => quoted.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(tiny: bool) -> Settings {
        Settings {
            own_profile: None,
            remaps: vec![(PathBuf::from("/w"), "/build")],
            env_rustflags: None,
            tiny: tiny.then(|| PathBuf::from("/t/tiny")),
        }
    }

    #[test]
    fn tiny_adds_build_std_and_the_unwind_tables_flag_and_keeps_panic_unwind() {
        let args = settings(true).cargo_args(Arch::Arm64);
        for wanted in [
            "-Zbuild-std=std,panic_unwind",
            "-Zbuild-std-features=panic-unwind,optimize_for_size",
            "profile.release.panic=\"unwind\"",
            "profile.release.opt-level=\"z\"",
            r#"target.aarch64-unknown-linux-musl.rustflags=["--remap-path-prefix=/w=/build", "-Cforce-unwind-tables=no"]"#,
        ] {
            assert!(args.iter().any(|a| a == wanted), "{wanted} not in {args:?}");
        }
        assert!(!args.iter().any(|a| a.contains("panic_immediate_abort")));
        let at = args
            .iter()
            .position(|a| a == "--target-dir")
            .expect("a target dir");
        assert_eq!(args[at + 1], "/t/tiny");
        assert_eq!(settings(true).toolchain(), Toolchain::Nightly);
    }

    #[test]
    fn without_tiny_nothing_is_unstable() {
        let args = settings(false).cargo_args(Arch::X86_64);
        assert!(!args.iter().any(|a| a.starts_with("-Z")), "{args:?}");
        assert!(
            args.iter()
                .any(|a| a.ends_with(r#""-Clink-arg=-zpack-relative-relocs"]"#)),
            "{args:?}"
        );
        assert!(!args.iter().any(|a| a.contains("force-unwind-tables")));
        assert_eq!(settings(false).toolchain(), Toolchain::Current);
    }

    #[test]
    fn toml_strings_escape_quotes_backslashes_and_control_characters() {
        assert_eq!(toml_string(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(toml_string("tab\there"), r#""tab\u0009here""#);
    }
}
