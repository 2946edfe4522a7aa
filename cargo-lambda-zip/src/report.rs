//! The table printed at the end: what was written and how big it is.

use std::fmt::Write;
use std::path::Path;

use crate::arch::Arch;
use crate::package::Package;

pub struct Row {
    pub bin: String,
    pub arch: Arch,
    pub package: Package,
}

/// `bin arch binary-bytes zip-bytes` per row, then where the zips are.
pub fn table(rows: &[Row], out_dir: &Path, extension: bool) -> String {
    let width = rows
        .iter()
        .map(|row| row.bin.len())
        .max()
        .unwrap_or(0)
        .max("bin".len());
    let mut text = format!(
        "{:width$}  {:7}  {:>12}  {:>12}\n",
        "bin", "arch", "binary bytes", "zip bytes"
    );
    for row in rows {
        let _ = writeln!(
            text,
            "{:width$}  {:7}  {:>12}  {:>12}",
            row.bin, row.arch, row.package.binary_bytes, row.package.zip_bytes
        );
    }
    let zip = match extension {
        true => "extension.zip (a layer: extensions/<bin>)",
        false => "bootstrap.zip",
    };
    let _ = writeln!(text, "\nZips: {}/<arch>/<bin>/{zip}", out_dir.display());
    text
}
