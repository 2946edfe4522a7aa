//! Binaries of a user's crate, built into Lambda packages (`<lambda dir>/<arch>/<bin>/bootstrap`)
//! by a script before the tests run, which names the folder and the architecture in two
//! environment variables. An arm64 binary runs under qemu-aarch64-static.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::{Bootstrap, FakeApi, lambda_env};

/// A built binary and what runs it (an emulator for another arch).
pub struct BuiltBinary {
    pub path: PathBuf,
    runner: Option<OsString>,
}

impl BuiltBinary {
    /// `$dir_var/$arch_var/<bin>/bootstrap`, checked to be an ELF executable for that
    /// architecture, so an arm64 run cannot quietly test an x86_64 binary. `script` is what
    /// builds them, for the message when a variable is missing.
    pub fn find(dir_var: &str, arch_var: &str, script: &str, bin: &str) -> BuiltBinary {
        let dir = required_env(dir_var, script);
        let arch = required_env(arch_var, script);
        let (machine, runner) = match arch.to_str() {
            Some("x86_64") => (0x3e, None),
            Some("arm64") => (0xb7, Some(OsString::from("qemu-aarch64-static"))),
            _ => panic!("{arch_var}={arch:?}: expected x86_64 or arm64"),
        };
        let path = PathBuf::from(dir).join(&arch).join(bin).join("bootstrap");
        let head = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (was it built?)", path.display()))
            .into_iter()
            .take(20)
            .collect::<Vec<u8>>();
        assert!(
            head.starts_with(b"\x7fELF") && head.len() == 20,
            "{} is not an ELF file",
            path.display()
        );
        let e_machine = u16::from_le_bytes([head[18], head[19]]);
        assert_eq!(
            e_machine,
            machine,
            "{} is not an {arch:?} binary",
            path.display()
        );
        BuiltBinary { path, runner }
    }

    /// Starts the binary against `api` with a Lambda environment and `_HANDLER=bootstrap`, the
    /// Handler setting of a function deployed from a `bootstrap.zip`; `extra` adds variables.
    pub fn start(&self, api: &FakeApi, extra: &[(&str, &str)]) -> Bootstrap {
        let env = lambda_env(api, "bootstrap", extra);
        Bootstrap::spawn_binary(&self.path, self.runner.as_deref(), &env)
    }
}

/// The variable's value; a test that passes without its binary proves nothing, so a missing
/// one fails, naming the script that sets it.
pub fn required_env(name: &str, script: &str) -> OsString {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| {
            panic!(
                "{name} is not set: these tests run binaries built from a user's crate; \
                 run {script}, which builds them and sets it"
            )
        })
}
