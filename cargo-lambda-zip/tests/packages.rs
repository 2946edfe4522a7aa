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
    // No C in this project: no C compiler is looked for or installed, and none is named.
    let cache = tempfile::tempdir().unwrap();
    let path_without_zig = std::env::join_paths(
        std::env::split_paths(&std::env::var_os("PATH").unwrap())
            .filter(|dir| !dir.join("zig").exists()),
    )
    .unwrap();
    let result = run(project
        .tool(["--arch", "x86_64"])
        .env("LAMBDA_ZIP_CACHE", cache.path())
        .env("PATH", path_without_zig));
    assert_eq!(result.code, Some(0), "stderr: {}", result.stderr);
    assert!(
        result.stderr.contains("opt-level=\"z\""),
        "the applied profile is shown: {}",
        result.stderr
    );
    assert!(!result.stderr.contains("  C  "), "{}", result.stderr);
    assert_eq!(fs::read_dir(cache.path()).unwrap().count(), 0);

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

/// The entries of a zip: name, unix mode, bytes; in the zip's order.
fn zip_entries(zip: &Path) -> Vec<(String, u32, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(Cursor::new(fs::read(zip).unwrap())).unwrap();
    (0..archive.len())
        .map(|index| {
            let mut entry = archive.by_index(index).unwrap();
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            (
                entry.name().unwrap().into_owned(),
                entry.unix_mode().unwrap_or(0),
                bytes,
            )
        })
        .collect()
}

#[test]
fn features_reach_cargo_and_included_files_go_into_every_zip_in_name_order() {
    let project = Project::copy_of("features");
    let result = run(&mut project.tool(["--arch", "x86_64"]));
    assert_eq!(result.code, Some(0), "stderr: {}", result.stderr);
    let app = lambda_dir(&project, "features");
    assert!(
        !lambda_dir(&project, "extra").exists(),
        "extra needs its feature"
    );
    let output = Command::new(app.join("bootstrap")).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stdout), "quiet\n");

    // Files to include, one of them executable, one in a nested folder.
    let files = project.path().join("files");
    fs::create_dir_all(files.join("templates/mail")).unwrap();
    fs::write(files.join("config.toml"), "level = 3\n").unwrap();
    fs::write(files.join("templates/page.html"), "<p>{{x}}</p>\n").unwrap();
    fs::write(files.join("templates/mail/welcome.txt"), "hello\n").unwrap();
    fs::write(files.join("hook.sh"), "#!/bin/sh\necho hook\n").unwrap();
    fs::set_permissions(files.join("hook.sh"), fs::Permissions::from_mode(0o755)).unwrap();
    let mut command = project.tool([
        "--arch",
        "x86_64",
        "--release",
        "--features",
        "shout",
        "-F",
        "extra",
    ]);
    for include in ["templates", "config.toml", "hook.sh"] {
        command.arg("--include").arg(files.join(include));
    }
    let result = run(&mut command);
    assert_eq!(result.code, Some(0), "stderr: {}", result.stderr);
    let output = Command::new(app.join("bootstrap")).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stdout), "LOUD\n");
    assert_lambda_package_with_extras(&lambda_dir(&project, "extra"));

    let entries = zip_entries(&app.join("bootstrap.zip"));
    let names: Vec<(&str, u32)> = entries
        .iter()
        .map(|(name, mode, _)| (name.as_str(), *mode))
        .collect();
    assert_eq!(
        names,
        [
            ("bootstrap", 0o100_755),
            ("config.toml", 0o100_644),
            ("hook.sh", 0o100_755),
            ("templates/mail/welcome.txt", 0o100_644),
            ("templates/page.html", 0o100_644),
        ]
    );
    assert_eq!(entries[0].2, fs::read(app.join("bootstrap")).unwrap());
    assert_eq!(entries[3].2, b"hello\n");

    // A file that would replace the binary is refused before anything builds.
    fs::write(files.join("bootstrap"), "not me").unwrap();
    let result = run(project
        .tool(["--arch", "x86_64", "--include"])
        .arg(files.join("bootstrap")));
    let line = result.one_error_line(1);
    assert!(line.contains("the zip's bootstrap is the binary"), "{line}");
}

/// The zip holds the binary first, then the included files.
fn assert_lambda_package_with_extras(dir: &Path) {
    let entries = zip_entries(&dir.join("bootstrap.zip"));
    assert_eq!(entries[0].0, "bootstrap");
    assert_eq!(entries[0].2, fs::read(dir.join("bootstrap")).unwrap());
    assert_eq!(
        entries.len(),
        5,
        "{:?}",
        entries.iter().map(|e| &e.0).collect::<Vec<_>>()
    );
}

#[test]
fn c_code_is_compiled_by_zig_for_both_arches_into_static_binaries_with_reproducible_zips() {
    let project = Project::copy_of("c-code");
    let result = run(&mut project.tool(["--arch", "all"]));
    assert_eq!(result.code, Some(0), "stderr: {}", result.stderr);
    // One line says which compiler, for which architectures and which crates.
    let line = result
        .stderr
        .lines()
        .find(|line| line.trim_start().starts_with("C "))
        .unwrap_or_else(|| panic!("no C line: {}", result.stderr));
    assert!(line.contains("x86_64: zig "), "{line}");
    assert!(line.contains("cc -target x86_64-linux-musl"), "{line}");
    assert!(line.contains("arm64: zig "), "{line}");
    assert!(line.contains("cc -target aarch64-linux-musl"), "{line}");
    assert!(line.contains("(for c-code;"), "{line}");

    let x86_64 = lambda_dir(&project, "c-code");
    assert_lambda_package(&x86_64);
    if cfg!(target_arch = "x86_64") {
        let output = Command::new(x86_64.join("bootstrap")).output().unwrap();
        assert_eq!(String::from_utf8_lossy(&output.stdout), "2 + 3 = 5\n");
    }
    let arm64 = fs::read(project.path().join("target/lambda/arm64/c-code/bootstrap")).unwrap();
    let elf = Elf::parse(&arm64).unwrap();
    assert_eq!(elf.header.e_machine, goblin::elf::header::EM_AARCH64);
    assert_eq!(elf.interpreter, None, "a static binary has no loader");
    assert!(elf.libraries.is_empty(), "needs {:?}", elf.libraries);

    // The same sources elsewhere give the same zips, C objects and all.
    let elsewhere = Project::copy_of("c-code");
    let again = run(&mut elsewhere.tool(["--arch", "all"]));
    assert_eq!(again.code, Some(0), "stderr: {}", again.stderr);
    for arch in ["x86_64", "arm64"] {
        let zip = |project: &Project| {
            fs::read(
                project
                    .path()
                    .join("target/lambda")
                    .join(arch)
                    .join("c-code/bootstrap.zip"),
            )
            .unwrap()
        };
        assert!(zip(&project) == zip(&elsewhere), "{arch}: the zips differ");
    }
}

#[test]
fn extension_binaries_become_layer_zips_with_the_binary_under_extensions() {
    let project = Project::copy_of("two-bins");
    let result = run(&mut project.tool(["--arch", "x86_64", "--bin", "alpha", "--extension"]));
    assert_eq!(result.code, Some(0), "stderr: {}", result.stderr);
    assert!(
        result.stdout.contains("<bin>/extension.zip"),
        "{}",
        result.stdout
    );
    let dir = lambda_dir(&project, "alpha");
    let binary = fs::read(dir.join("alpha")).unwrap();
    let elf = Elf::parse(&binary).unwrap();
    assert_eq!(elf.interpreter, None, "a static binary has no loader");
    assert!(elf.libraries.is_empty(), "needs {:?}", elf.libraries);
    // Lambda starts /opt/extensions/<name>: the layer holds just that, executable.
    let entries = zip_entries(&dir.join("extension.zip"));
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].0, "extensions/alpha");
    assert_eq!(entries[0].1, 0o100_755);
    assert!(
        entries[0].2 == binary,
        "the layer holds the binary as it is"
    );
    assert!(!dir.join("bootstrap.zip").exists(), "no function zip");
    if cfg!(target_arch = "x86_64") {
        let output = Command::new(dir.join("alpha")).output().unwrap();
        assert_eq!(String::from_utf8_lossy(&output.stdout), "alpha alpha\n");
    }
}
