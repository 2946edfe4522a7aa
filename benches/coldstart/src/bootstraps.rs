//! The executables measured, built (or found) and sized: the three of the cold-start benchmark,
//! and those of the concurrency benchmark (ours per function, the official `concurrent`).

use std::io::{self, Cursor, Write};
use std::path::PathBuf;

use bench_support::build::{self, Linker, MUSL, shipped, workspace_root};
pub use bench_support::{OFFICIAL, OURS};

/// One runtime under test: its executables, one per handler or one for all.
pub struct Bootstrap {
    /// Short name used in tables and the CSV.
    pub name: &'static str,
    pub binaries: Vec<Binary>,
}

/// One executable, and what it serves.
pub struct Binary {
    /// The one handler it serves whatever `_HANDLER` says (the per-function binaries
    /// `scripts/build.sh` ships), or `None`: every handler, chosen by `_HANDLER`.
    pub serves: Option<&'static str>,
    pub path: PathBuf,
    /// Size of the executable on disk.
    pub bytes: u64,
    /// Size of a Lambda deployment zip holding it as `bootstrap` (deflate, mode 0755).
    pub zip_bytes: u64,
}

impl Bootstrap {
    /// The executable that runs `handler`.
    pub fn binary(&self, handler: &str) -> &Binary {
        self.binaries
            .iter()
            .find(|b| b.serves.is_none_or(|h| h == handler))
            .expect("prepare gives every handler a binary")
    }
}

/// Where the binaries come from: built here, or given by path.
#[derive(Default)]
pub struct Sources {
    /// One binary for every handler, by `_HANDLER` (e.g. the all-handlers `bootstrap`).
    pub ours: Option<PathBuf>,
    pub official: Option<PathBuf>,
    pub floor: Option<PathBuf>,
    /// Use the default paths as they are, without running cargo.
    pub no_build: bool,
}

/// The names, in the order they are run within each round: [`OURS`], [`OFFICIAL`], then this.
pub const FLOOR: &str = "floor";

/// The cargo feature of `benches/official` that builds `bootstrap` and `concurrent`.
const OFFICIAL_FEATURE: &str = "coldstart";

/// Builds what was not given by path, then sizes all three. Ours by default is what ships: one
/// binary per function in `handlers`, built by `scripts/build.sh` (static musl, through
/// `cargo lambda-zip`: its size profile, linker and flags); the floor and the reference with
/// cargo (static musl, the workspace's release profile).
pub fn prepare(sources: &Sources, handlers: &[&'static str]) -> Result<Vec<Bootstrap>, String> {
    let root = workspace_root();
    let floor_default = build::release_binary(&root.join("target"), "floor");
    let official_default = build::official(&root, "bootstrap", Linker::Default);

    if !sources.no_build {
        if sources.ours.is_none() {
            build::build_shipped(&root, handlers)?;
        }
        if sources.floor.is_none() {
            build::cargo(&root, &["-p", "floor"])?;
        }
        if sources.official.is_none() {
            build::build_official(&root, OFFICIAL_FEATURE, &["bootstrap"], Linker::Default)?;
        }
    }
    let pick = |given: &Option<PathBuf>, default: PathBuf| given.clone().unwrap_or(default);
    let ours: Vec<(Option<&'static str>, PathBuf)> = match &sources.ours {
        Some(path) => vec![(None, path.clone())],
        None => handlers
            .iter()
            .map(|&handler| (Some(handler), shipped(&root, handler)))
            .collect(),
    };
    [
        (OURS, ours),
        (
            OFFICIAL,
            vec![(None, pick(&sources.official, official_default))],
        ),
        (FLOOR, vec![(None, pick(&sources.floor, floor_default))]),
    ]
    .into_iter()
    .map(|(name, paths)| {
        let binaries = paths
            .into_iter()
            .map(|(serves, path)| sized(name, serves, path))
            .collect::<Result<_, _>>()?;
        Ok(Bootstrap { name, binaries })
    })
    .collect()
}

fn sized(name: &str, serves: Option<&'static str>, path: PathBuf) -> Result<Binary, String> {
    let bytes = std::fs::read(&path)
        .map_err(|e| format!("cannot read the {name} binary {}: {e}", path.display()))?;
    let zip_bytes = zipped_size(&bytes).map_err(|e| format!("zipping {name}: {e}"))?;
    Ok(Binary {
        serves,
        path,
        bytes: bytes.len() as u64,
        zip_bytes,
    })
}

/// The concurrency benchmark's executables.
pub struct ConcurrencyBinaries {
    /// Given by path: serves every handler (by `_HANDLER`), as the all-handlers `bootstrap` does.
    ours_given: Option<PathBuf>,
    /// Where the one-function binaries are, one per handler, named for it.
    ours_dir: PathBuf,
    /// The official runtime's `concurrent`: every handler, by `_HANDLER`.
    pub official: PathBuf,
}

impl ConcurrencyBinaries {
    /// Ours for `handler`: the one-function binary `scripts/build.sh` ships for it, unless a
    /// binary was given.
    pub fn ours(&self, handler: &str) -> PathBuf {
        self.ours_given
            .clone()
            .unwrap_or_else(|| self.ours_dir.join(handler))
    }
}

/// Builds ours' one-function binaries for `handlers` and the official `concurrent` (static musl,
/// release profile), those not given by path and unless `no_build`; checks that they exist.
pub fn prepare_concurrency(
    ours: Option<PathBuf>,
    official: Option<PathBuf>,
    no_build: bool,
    handlers: &[&str],
) -> Result<ConcurrencyBinaries, String> {
    let root = workspace_root();
    let binaries = ConcurrencyBinaries {
        ours_dir: root.join("target").join(MUSL).join("release"),
        official: official
            .clone()
            .unwrap_or_else(|| build::official(&root, "concurrent", Linker::Default)),
        ours_given: ours.clone(),
    };
    if !no_build {
        if ours.is_none() {
            let mut args = vec!["-p", "bootstrap"];
            for handler in handlers {
                args.extend(["--bin", handler]);
            }
            build::cargo(&root, &args)?;
        }
        if official.is_none() {
            build::build_official(&root, OFFICIAL_FEATURE, &["concurrent"], Linker::Default)?;
        }
    }
    let mut paths: Vec<PathBuf> = handlers.iter().map(|h| binaries.ours(h)).collect();
    paths.push(binaries.official.clone());
    for path in paths {
        if !path.is_file() {
            return Err(format!("no binary at {}", path.display()));
        }
    }
    Ok(binaries)
}

/// The size of the zip Lambda would be given: one entry `bootstrap`, deflated, mode 0755.
fn zipped_size(binary: &[u8]) -> io::Result<u64> {
    use zip::write::SimpleFileOptions;
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o755);
    zip.start_file("bootstrap", options)
        .map_err(io::Error::other)?;
    zip.write_all(binary)?;
    let cursor = zip.finish().map_err(io::Error::other)?;
    Ok(cursor.into_inner().len() as u64)
}
