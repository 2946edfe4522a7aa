//! The two Lambda architectures, and what each means for the build and for the ELF check.

use std::fmt;

/// A Lambda architecture, named as Lambda names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    X86_64,
    Arm64,
}

impl Arch {
    pub const ALL: [Arch; 2] = [Arch::X86_64, Arch::Arm64];

    /// Parses an `--arch` value: one architecture, or `all`.
    pub fn parse_list(value: &str) -> Option<Vec<Arch>> {
        match value {
            "x86_64" => Some(vec![Arch::X86_64]),
            "arm64" => Some(vec![Arch::Arm64]),
            "all" => Some(Arch::ALL.to_vec()),
            _ => None,
        }
    }

    /// Lambda's name, used for the output folder: `lambda/<arch>/<bin>/`.
    pub fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Arm64 => "arm64",
        }
    }

    /// The Rust target: musl, so the binary carries its own libc and runs on any Lambda OS.
    pub fn triple(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64-unknown-linux-musl",
            Arch::Arm64 => "aarch64-unknown-linux-musl",
        }
    }

    /// The ELF `e_machine` a binary for this architecture has.
    pub fn elf_machine(self) -> u16 {
        match self {
            Arch::X86_64 => goblin::elf::header::EM_X86_64,
            Arch::Arm64 => goblin::elf::header::EM_AARCH64,
        }
    }

    /// The variable cargo reads the linker from: `CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_LINKER`.
    pub fn linker_variable(self) -> String {
        format!(
            "CARGO_TARGET_{}_LINKER",
            self.triple().to_uppercase().replace('-', "_")
        )
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linker_variable_is_the_one_cargo_reads() {
        assert_eq!(
            Arch::Arm64.linker_variable(),
            "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER"
        );
    }

    #[test]
    fn arch_list_accepts_all_and_rejects_other_names() {
        assert_eq!(
            Arch::parse_list("all"),
            Some(vec![Arch::X86_64, Arch::Arm64])
        );
        assert_eq!(Arch::parse_list("arm64"), Some(vec![Arch::Arm64]));
        assert_eq!(Arch::parse_list("aarch64"), None);
    }
}
