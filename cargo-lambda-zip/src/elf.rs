//! The check that a binary will start on Lambda: an ELF for the function's architecture that
//! needs nothing from the OS image, neither a dynamic loader nor a shared library.

use goblin::elf::Elf;
use goblin::elf::header::{ET_DYN, ET_EXEC, machine_to_str};

use crate::arch::Arch;

/// `Err` says what is wrong. A static-pie binary (x86_64 musl) has a dynamic section for its
/// own relocations; that is fine as long as it names no library to load (`DT_NEEDED`).
pub fn check_static(bytes: &[u8], arch: Arch) -> Result<(), String> {
    let elf = Elf::parse(bytes).map_err(|error| format!("not an ELF file ({error})"))?;
    if !elf.is_64 || !elf.little_endian {
        return Err("not a 64-bit little-endian ELF".to_owned());
    }
    if elf.header.e_machine != arch.elf_machine() {
        return Err(format!(
            "built for {}, not {}",
            machine_to_str(elf.header.e_machine),
            machine_to_str(arch.elf_machine())
        ));
    }
    if elf.header.e_type != ET_EXEC && elf.header.e_type != ET_DYN {
        return Err("not an executable".to_owned());
    }
    if let Some(interpreter) = elf.interpreter {
        return Err(format!(
            "dynamically linked: it asks for the loader {interpreter}"
        ));
    }
    if !elf.libraries.is_empty() {
        return Err(format!(
            "needs the shared libraries {}",
            elf.libraries.join(", ")
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_that_are_not_elf_are_refused() {
        let error = check_static(b"#!/bin/sh\necho hi\n", Arch::X86_64).unwrap_err();
        assert!(error.starts_with("not an ELF file"), "{error}");
    }

    /// This test's own executable: a glibc program, so dynamically linked, for the host.
    #[cfg(all(
        target_env = "gnu",
        any(target_arch = "x86_64", target_arch = "aarch64")
    ))]
    fn host_program() -> (Vec<u8>, Arch, Arch) {
        let bytes = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        match cfg!(target_arch = "x86_64") {
            true => (bytes, Arch::X86_64, Arch::Arm64),
            false => (bytes, Arch::Arm64, Arch::X86_64),
        }
    }

    #[test]
    #[cfg(all(
        target_env = "gnu",
        any(target_arch = "x86_64", target_arch = "aarch64")
    ))]
    fn a_dynamically_linked_program_is_refused_naming_its_loader() {
        let (bytes, arch, _) = host_program();
        let error = check_static(&bytes, arch).unwrap_err();
        assert!(
            error.starts_with("dynamically linked: it asks for the loader /"),
            "{error}"
        );
    }

    #[test]
    #[cfg(all(
        target_env = "gnu",
        any(target_arch = "x86_64", target_arch = "aarch64")
    ))]
    fn a_program_for_the_other_architecture_is_refused() {
        let (bytes, _, other) = host_program();
        let error = check_static(&bytes, other).unwrap_err();
        assert!(error.starts_with("built for "), "{error}");
    }
}
