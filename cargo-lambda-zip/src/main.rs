//! `cargo lambda-zip`: builds a Cargo project's binaries as static musl Lambda `bootstrap`s for
//! x86_64 and arm64 and packages each as `<target dir>/lambda/<arch>/<bin>/bootstrap.zip`.
//!
//! The steps, one module each: read the command line (`cli`), the project and its dependency
//! graph (`project`), refuse dependencies that need a system C library (`native`), make sure the
//! musl targets are installed (`toolchain`) and, when a dependency compiles C, a C compiler for
//! them (`c_compiler`), build with the size profile, linker and rustflags (`settings`,
//! `cargo_build`), check each binary is static (`elf`), zip it with any `--include`d files
//! (`package`), and print what was written (`report`).

mod arch;
mod c_compiler;
mod cargo_build;
mod cli;
mod elf;
mod error;
mod native;
mod package;
mod project;
mod report;
mod settings;
mod toolchain;

use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::{Command, Options};
use crate::error::Error;
use crate::project::Graph;
use crate::report::Row;
use crate::settings::Settings;
use crate::toolchain::{TINY_TOOLCHAIN, TargetState};

fn main() -> ExitCode {
    match cli::parse(std::env::args_os().skip(1)) {
        Err(cli::UsageError(message)) => {
            eprintln!("error: {message} (see cargo lambda-zip --help)");
            ExitCode::from(2)
        }
        Ok(Command::Help) => {
            print!("{}", cli::HELP);
            ExitCode::SUCCESS
        }
        Ok(Command::Version) => {
            println!("cargo-lambda-zip {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Ok(Command::Build(options)) => match build(&options) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: {error}");
                ExitCode::FAILURE
            }
        },
    }
}

fn build(options: &Options) -> Result<(), Error> {
    let zip_time = package::zip_time_from_env()?;
    let manifest = project::find_manifest(options.manifest_path.as_deref())?;

    // Everything that can be refused is checked for every architecture before anything builds.
    let mut metadata = Vec::new();
    for arch in &options.arches {
        metadata.push(project::load(
            &manifest,
            arch.triple(),
            options.locked,
            &options.features,
        )?);
    }
    let bins = project::select_bins(&metadata[0], &options.bins, &options.features)?;
    let graphs: Vec<Graph> = metadata
        .iter()
        .map(|metadata| Graph::new(metadata, &bins))
        .collect();
    if options.native_check {
        for graph in &graphs {
            native::check(graph)?;
        }
    }
    let extras = package::read_extras(&options.include)?;
    let workspace_root = metadata[0].workspace_root.as_std_path();
    let target_dir = metadata[0].target_directory.as_std_path();
    let settings = Settings::new(
        options.profile.clone(),
        options.tiny,
        workspace_root,
        target_dir,
    );
    let toolchain = settings.toolchain();
    if options.tiny && toolchain::ensure_rust_src(workspace_root)? == TargetState::Added {
        eprintln!("Added the {TINY_TOOLCHAIN} component rust-src with rustup (for --tiny)");
    }
    for arch in &options.arches {
        if toolchain::ensure_target(*arch, workspace_root, toolchain)? == TargetState::Added {
            eprintln!("Added the Rust target {} with rustup", arch.triple());
        }
    }

    // zig is found or installed only when a dependency compiles C for some architecture.
    let compiling_c: Vec<Vec<String>> = graphs
        .iter()
        .map(c_compiler::packages_compiling_c)
        .collect();
    let c_compilers = match compiling_c.iter().any(|names| !names.is_empty()) {
        true => Some(c_compiler::ensure(
            &options.arches,
            &target_dir.join("lambda-zip"),
        )?),
        false => None,
    };

    let out_dir: PathBuf = match &options.out_dir {
        Some(dir) => std::path::absolute(dir).map_err(Error::io(dir))?,
        None => target_dir.join("lambda"),
    };
    let names: Vec<&str> = bins.iter().map(|bin| bin.name.as_str()).collect();
    let arch_names: Vec<&str> = options.arches.iter().map(|arch| arch.name()).collect();
    eprintln!(
        "cargo lambda-zip: {} for {}\n{}  output     {}/<arch>/<bin>/bootstrap.zip",
        names.join(", "),
        arch_names.join(", "),
        settings.describe(&options.arches),
        out_dir.display()
    );
    if let Some(compilers) = &c_compilers {
        let mut names: Vec<&str> = compiling_c.iter().flatten().map(String::as_str).collect();
        names.sort();
        names.dedup();
        let described: Vec<String> = options
            .arches
            .iter()
            .zip(compilers)
            .map(|(arch, compiler)| compiler.describe(*arch))
            .collect();
        eprintln!(
            "  C          {} (for {}; CC_<triple> chooses another)",
            described.join(", "),
            names.join(", ")
        );
    }
    let feature_args = options.features.cargo_args();
    let log_dir = target_dir.join("lambda-zip");
    std::fs::create_dir_all(&log_dir).map_err(Error::io(&log_dir))?;

    let mut rows = Vec::new();
    for (index, (arch, graph)) in options.arches.iter().zip(&graphs).enumerate() {
        eprintln!(
            "Building {} for {arch} ({})",
            names.join(", "),
            arch.triple()
        );
        let build = cargo_build::Build {
            manifest: &manifest,
            arch: *arch,
            bins: &bins,
            graph,
            settings: &settings,
            locked: options.locked,
            feature_args: &feature_args,
            config: &options.config,
            c_compiler: c_compilers.as_ref().map(|compilers| &compilers[index]),
            log: &log_dir.join(format!("build-{arch}.log")),
        };
        let executables = build.run()?;
        for (bin, executable) in bins
            .iter()
            .filter_map(|bin| Some((bin, executables.get(&bin.name)?)))
        {
            let dir = out_dir.join(arch.name()).join(&bin.name);
            let layout = match options.extension {
                true => package::Layout::extension(&bin.name),
                false => package::Layout::function(),
            };
            let package = package::write(executable, &layout, &extras, &dir, *arch, zip_time)?;
            rows.push(Row {
                bin: bin.name.clone(),
                arch: *arch,
                package,
            });
        }
    }
    print!("\n{}", report::table(&rows, &out_dir, options.extension));
    Ok(())
}
