#!/usr/bin/env python3
"""Packaging helpers for scripts/build.sh: check a bootstrap binary, zip it reproducibly,
check the zip. Standard library only, so nothing needs installing.

    lambda_package.py check-elf BINARY ARCH        ARCH: x86_64 | arm64
    lambda_package.py zip BINARY ZIP EPOCH         EPOCH: seconds since 1970 (SOURCE_DATE_EPOCH)
    lambda_package.py check-zip ZIP BINARY

Each exits 1 with a message on stderr when what it checks is wrong.
"""

import struct
import sys
import time
import zipfile

# ELF e_machine values.
MACHINES = {"x86_64": 62, "arm64": 183}
MACHINE_NAMES = {62: "x86-64", 183: "AArch64"}
PT_DYNAMIC, PT_INTERP = 2, 3
DT_NULL, DT_NEEDED = 0, 1
# Unix regular file, rwxr-xr-x, in the high half of the zip entry's external attributes.
BOOTSTRAP_MODE = 0o100755


def fail(message):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(1)


def check_elf(path, arch):
    """A 64-bit little-endian ELF for `arch`, with no interpreter and no shared libraries."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF":
        fail(f"{path} is not an ELF file")
    if data[4] != 2 or data[5] != 1:
        fail(f"{path} is not a 64-bit little-endian ELF")
    (e_machine,) = struct.unpack_from("<H", data, 18)
    if e_machine != MACHINES[arch]:
        found = MACHINE_NAMES.get(e_machine, f"machine {e_machine}")
        fail(f"{path} is built for {found}, not {arch}")
    (e_phoff,) = struct.unpack_from("<Q", data, 32)
    e_phentsize, e_phnum = struct.unpack_from("<HH", data, 54)
    for i in range(e_phnum):
        p_type, _flags, p_offset, _vaddr, _paddr, p_filesz = struct.unpack_from(
            "<IIQQQQ", data, e_phoff + i * e_phentsize
        )
        if p_type == PT_INTERP:
            interp = data[p_offset : p_offset + p_filesz].rstrip(b"\0").decode(errors="replace")
            fail(f"{path} is dynamically linked: it asks for the interpreter {interp}")
        if p_type == PT_DYNAMIC:
            # A static-pie binary has a dynamic section for its own relocations; what must not be
            # there is a shared library to load (DT_NEEDED), e.g. libc.so.
            for off in range(p_offset, p_offset + p_filesz, 16):
                tag, _val = struct.unpack_from("<qQ", data, off)
                if tag == DT_NULL:
                    break
                if tag == DT_NEEDED:
                    fail(f"{path} needs a shared library: it is not statically linked")


def write_zip(binary, zip_path, epoch):
    """`bootstrap` alone at the root, mode 0755, with a fixed timestamp: the same binary always
    gives the same zip bytes."""
    # Zip timestamps are local DOS time from 1980 on; use UTC so the machine's TZ does not matter.
    date_time = time.gmtime(max(int(epoch), 315532800))[:6]
    with open(binary, "rb") as f:
        payload = f.read()
    info = zipfile.ZipInfo("bootstrap", date_time=date_time)
    info.create_system = 3  # Unix, so unzip and Lambda honour the mode bits
    info.external_attr = BOOTSTRAP_MODE << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(zip_path, "w") as z:
        z.writestr(info, payload, compresslevel=9)


def check_zip(zip_path, binary):
    with zipfile.ZipFile(zip_path) as z:
        names = z.namelist()
        if names != ["bootstrap"]:
            fail(f"{zip_path} should hold just bootstrap at its root, holds {names}")
        info = z.getinfo("bootstrap")
        mode = info.external_attr >> 16
        if mode != BOOTSTRAP_MODE:
            fail(f"{zip_path}: bootstrap has mode {oct(mode)}, Lambda needs {oct(BOOTSTRAP_MODE)}")
        with open(binary, "rb") as f:
            if z.read("bootstrap") != f.read():
                fail(f"{zip_path}: bootstrap differs from {binary}")


def main(argv):
    commands = {"check-elf": (check_elf, 2), "zip": (write_zip, 3), "check-zip": (check_zip, 2)}
    if len(argv) < 2 or argv[1] not in commands or len(argv) - 2 != commands[argv[1]][1]:
        print(__doc__, file=sys.stderr)
        return 2
    command, _ = commands[argv[1]]
    command(*argv[2:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
