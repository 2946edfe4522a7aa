//! Real builds of a tiny std-only project for x86_64: the layout, the zip, the static binary,
//! byte-identical rebuilds, and `--bin`.

mod common;

use std::fs;
use std::io::{Cursor, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Project, run};
use goblin::elf::Elf;

/// Asserts `dir` holds a Lambda package of a static x86_64 binary.
fn assert_lambda_package(dir: &Path) {
    let binary = fs::read(dir.join("bootstrap")).unwrap();
    let mode = fs::metadata(dir.join("bootstrap"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o755, "bootstrap should be executable");

    let elf = Elf::parse(&binary).unwrap();
    assert_eq!(elf.header.e_machine, goblin::elf::header::EM_X86_64);
    assert_eq!(elf.interpreter, None, "a static binary has no loader");
    assert!(elf.libraries.is_empty(), "needs {:?}", elf.libraries);

    let zip = fs::read(dir.join("bootstrap.zip")).unwrap();
    let mut archive = zip::ZipArchive::new(Cursor::new(&zip)).unwrap();
    assert_eq!(archive.len(), 1);
    let mut entry = archive.by_index(0).unwrap();
    assert_eq!(entry.name().unwrap(), "bootstrap");
    assert_eq!(entry.unix_mode(), Some(0o100_755));
    assert_eq!(entry.compression(), zip::CompressionMethod::Deflated);
    let time = entry.last_modified().unwrap();
    assert_eq!(
        (time.year(), time.month(), time.day(), time.hour()),
        (1980, 1, 1, 0)
    );
    let mut unzipped = Vec::new();
    entry.read_to_end(&mut unzipped).unwrap();
    assert!(
        unzipped == binary,
        "the zip should hold the binary as it is"
    );
}

fn lambda_dir(project: &Project, bin: &str) -> PathBuf {
    project.path().join("target/lambda/x86_64").join(bin)
}

#[test]
fn every_binary_becomes_a_static_x86_64_zip_and_rebuilding_elsewhere_gives_the_same_bytes() {
    let project = Project::copy_of("two-bins");
    let result = run(&mut project.tool(["--arch", "x86_64"]));
    assert_eq!(result.code, Some(0), "stderr: {}", result.stderr);
    assert!(
        result.stderr.contains("opt-level=\"z\""),
        "the applied profile is shown: {}",
        result.stderr
    );

    for bin in ["alpha", "beta"] {
        let dir = lambda_dir(&project, bin);
        assert_lambda_package(&dir);
        // The table row: bin, arch, then the sizes of what was written.
        let binary_bytes = fs::metadata(dir.join("bootstrap")).unwrap().len();
        let zip_bytes = fs::metadata(dir.join("bootstrap.zip")).unwrap().len();
        let row = result
            .stdout
            .lines()
            .find(|line| line.split_whitespace().next() == Some(bin))
            .unwrap_or_else(|| panic!("no row for {bin} in {}", result.stdout));
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(
            cells,
            [
                bin,
                "x86_64",
                &binary_bytes.to_string(),
                &zip_bytes.to_string()
            ]
        );
        let binary = fs::read(dir.join("bootstrap")).unwrap();
        let built_at = project.path().to_str().unwrap().as_bytes();
        assert!(
            !binary
                .windows(built_at.len())
                .any(|window| window == built_at),
            "{bin}: the project's path should be remapped out of the binary"
        );
        if cfg!(target_arch = "x86_64") {
            let output = Command::new(dir.join("bootstrap")).output().unwrap();
            assert_eq!(
                String::from_utf8_lossy(&output.stdout),
                format!("{bin} bootstrap\n")
            );
        }
    }
    assert!(
        !project.path().join("target/lambda/arm64").exists(),
        "--arch x86_64 only"
    );
    assert!(
        result
            .stdout
            .contains("target/lambda/<arch>/<bin>/bootstrap.zip"),
        "{}",
        result.stdout
    );

    // The same sources at another path, built from an empty target dir.
    let elsewhere = Project::copy_of("two-bins");
    let again = run(&mut elsewhere.tool(["--arch", "x86_64"]));
    assert_eq!(again.code, Some(0), "stderr: {}", again.stderr);
    for bin in ["alpha", "beta"] {
        let first = fs::read(lambda_dir(&project, bin).join("bootstrap.zip")).unwrap();
        let second = fs::read(lambda_dir(&elsewhere, bin).join("bootstrap.zip")).unwrap();
        assert!(first == second, "{bin}: the zips differ");
    }
}

#[test]
fn bin_filter_builds_only_the_named_binary_and_cargos_own_argument_is_accepted() {
    let project = Project::copy_of("two-bins");
    let out = project.path().join("packages");
    // As cargo runs it for `cargo lambda-zip`: the subcommand's name comes first.
    let mut command = common::tool();
    command
        .args([
            "lambda-zip",
            "--arch",
            "x86_64",
            "--bin",
            "beta",
            "--out-dir",
        ])
        .arg(&out)
        .arg("--manifest-path")
        .arg(project.manifest())
        .env("CARGO_TARGET_DIR", project.path().join("target"));
    let result = run(&mut command);
    assert_eq!(result.code, Some(0), "stderr: {}", result.stderr);
    assert_lambda_package(&out.join("x86_64/beta"));
    assert!(
        !out.join("x86_64/alpha").exists(),
        "alpha was not asked for"
    );
    assert!(
        !project
            .path()
            .join("target/x86_64-unknown-linux-musl/release/alpha")
            .exists()
    );
    let rows: Vec<&str> = result
        .stdout
        .lines()
        .filter(|line| line.contains("x86_64"))
        .collect();
    assert_eq!(rows.len(), 1, "{}", result.stdout);
}

#[test]
fn cargo_runs_it_as_the_lambda_zip_subcommand() {
    let tool_dir = Path::new(common::TOOL).parent().unwrap();
    let path = std::env::join_paths(
        std::iter::once(tool_dir.to_owned())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let result = run(Command::new("cargo")
        .args(["lambda-zip", "--help"])
        .env("PATH", path));
    assert_eq!(result.code, Some(0), "stderr: {}", result.stderr);
    assert!(
        result.stdout.starts_with("Usage: cargo lambda-zip"),
        "{}",
        result.stdout
    );
}
