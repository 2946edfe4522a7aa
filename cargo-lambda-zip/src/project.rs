//! The Cargo project: where its manifest is, what `cargo metadata` says about it, which binaries
//! to build, and which packages end up linked into them.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};

use cargo_metadata::{DependencyKind, Metadata, MetadataCommand, Package, PackageId};

use crate::cli::Features;
use crate::error::Error;

/// The manifest to build: the one given (a `Cargo.toml`, or a folder holding one), else the
/// nearest `Cargo.toml` from the current directory up, as cargo finds it.
pub fn find_manifest(given: Option<&Path>) -> Result<PathBuf, Error> {
    let cwd = std::env::current_dir().map_err(Error::io("the current directory"))?;
    match given {
        Some(path) => {
            let path = cwd.join(path);
            let path = if path.is_dir() {
                path.join("Cargo.toml")
            } else {
                path
            };
            if path.is_file() {
                Ok(path)
            } else {
                Err(Error::ManifestMissing { path })
            }
        }
        None => cwd
            .ancestors()
            .map(|dir| dir.join("Cargo.toml"))
            .find(|manifest| manifest.is_file())
            .ok_or(Error::NoManifest { dir: cwd }),
    }
}

/// `cargo metadata` for the project, its dependency graph limited to what `triple` builds.
pub fn load(
    manifest: &Path,
    triple: &str,
    locked: bool,
    features: &Features,
) -> Result<Metadata, Error> {
    let mut options = vec!["--filter-platform".to_owned(), triple.to_owned()];
    options.extend(features.cargo_args());
    if locked {
        options.push("--locked".to_owned());
    }
    MetadataCommand::new()
        .manifest_path(manifest)
        .other_options(options)
        .exec()
        .map_err(|error| Error::Metadata {
            manifest: manifest.to_owned(),
            reason: match error {
                cargo_metadata::Error::CargoMetadata { stderr } => first_error(&stderr),
                other => other.to_string(),
            },
        })
}

/// Cargo's error, which spans many lines, as one: the `error:` line with where it points
/// (`unclosed table, expected `]` at Cargo.toml:1:9`), or with the first line of its innermost
/// cause (`failed to parse manifest at ...: TOML parse error at line 1, column 5`).
fn first_error(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().map(str::trim).collect();
    let Some(at) = lines.iter().position(|line| line.starts_with("error: ")) else {
        return "cargo metadata failed".to_owned();
    };
    let error = &lines[at]["error: ".len()..];
    if let Some(location) = lines.get(at + 1).and_then(|line| line.strip_prefix("--> ")) {
        return format!("{error} at {location}");
    }
    let cause = lines
        .iter()
        .rposition(|line| *line == "Caused by:")
        .and_then(|at| lines[at + 1..].iter().find(|line| !line.is_empty()));
    match cause {
        Some(cause) => format!("{error}: {cause}"),
        None => error.to_owned(),
    }
}

/// A binary target to package.
#[derive(Clone, Debug)]
pub struct Bin {
    pub name: String,
    pub package: PackageId,
}

/// The packages whose binaries are candidates: the manifest's package, or every member of a
/// virtual workspace.
fn candidate_packages(metadata: &Metadata) -> Vec<&Package> {
    match metadata.root_package() {
        Some(package) => vec![package],
        None => metadata.workspace_packages(),
    }
}

/// The binaries named by `--bin`, or every binary whose required features are on.
pub fn select_bins(
    metadata: &Metadata,
    wanted: &[String],
    features: &Features,
) -> Result<Vec<Bin>, Error> {
    let packages = candidate_packages(metadata);
    let mut bins: Vec<(Bin, &Package)> = Vec::new();
    for package in &packages {
        for target in package.targets.iter().filter(|target| target.is_bin()) {
            let bin = Bin {
                name: target.name.clone(),
                package: package.id.clone(),
            };
            let defaults = package
                .features
                .get("default")
                .map_or(&[][..], Vec::as_slice);
            let builds_by_default = target
                .required_features
                .iter()
                .all(|feature| features.enables(&package.name, feature, defaults));
            if wanted.contains(&target.name) || (wanted.is_empty() && builds_by_default) {
                bins.push((bin, package));
            }
        }
    }
    if bins.is_empty() && wanted.is_empty() {
        let what = match metadata.root_package() {
            Some(package) => format!("the package {}", package.name),
            None => format!("the workspace at {}", metadata.workspace_root),
        };
        return Err(Error::NoBinaries { what });
    }
    for name in wanted {
        if !bins.iter().any(|(bin, _)| &bin.name == name) {
            let mut available: Vec<String> = packages
                .iter()
                .flat_map(|package| package.targets.iter().filter(|target| target.is_bin()))
                .map(|target| target.name.clone())
                .collect();
            available.sort();
            if available.is_empty() {
                available.push("(none)".to_owned());
            }
            return Err(Error::UnknownBin {
                name: name.clone(),
                available,
            });
        }
    }
    for (index, (bin, _)) in bins.iter().enumerate() {
        let owners: Vec<String> = bins[index..]
            .iter()
            .filter(|(other, _)| other.name == bin.name)
            .map(|(_, package)| package.name.clone())
            .collect();
        if owners.len() > 1 {
            return Err(Error::DuplicateBin {
                name: bin.name.clone(),
                packages: owners,
            });
        }
    }
    // In the order asked for: the order of the table at the end.
    bins.sort_by_key(|(bin, _)| wanted.iter().position(|name| *name == bin.name));
    Ok(bins.into_iter().map(|(bin, _)| bin).collect())
}

/// Which packages a build of some binaries compiles, and through which dependency each one
/// came in: the packages linked into the binaries (the target side), and the build scripts'
/// dependencies and proc macros, compiled for the host.
pub struct Graph<'a> {
    metadata: &'a Metadata,
    nodes: HashMap<&'a PackageId, &'a cargo_metadata::Node>,
    /// Every package linked into the binaries, with the package that depends on it (`None` for
    /// the binaries' own packages).
    linked: HashMap<&'a PackageId, Option<&'a PackageId>>,
    /// Packages compiled for the host: proc macros, build dependencies and theirs.
    host: HashSet<&'a PackageId>,
}

impl<'a> Graph<'a> {
    pub fn new(metadata: &'a Metadata, bins: &'a [Bin]) -> Graph<'a> {
        let nodes: HashMap<&PackageId, &cargo_metadata::Node> = metadata
            .resolve
            .iter()
            .flat_map(|resolve| &resolve.nodes)
            .map(|node| (&node.id, node))
            .collect();
        let deps_of = |id: &PackageId, kinds: &[DependencyKind]| -> Vec<&'a PackageId> {
            nodes.get(id).map_or_else(Vec::new, |node| {
                node.deps
                    .iter()
                    .filter(|dep| dep.dep_kinds.iter().any(|info| kinds.contains(&info.kind)))
                    .map(|dep| &dep.pkg)
                    .collect()
            })
        };

        // Breadth first, so the path recorded to each package is a shortest one.
        let mut linked = HashMap::new();
        let mut host_roots = Vec::new();
        let mut queue = VecDeque::new();
        for bin in bins {
            if !linked.contains_key(&bin.package) {
                linked.insert(&bin.package, None);
                queue.push_back(&bin.package);
            }
        }
        while let Some(id) = queue.pop_front() {
            host_roots.extend(deps_of(id, &[DependencyKind::Build]));
            for dep in deps_of(id, &[DependencyKind::Normal]) {
                if is_proc_macro(&metadata[dep]) {
                    host_roots.push(dep);
                } else if !linked.contains_key(dep) {
                    linked.insert(dep, Some(id));
                    queue.push_back(dep);
                }
            }
        }
        let mut host = HashSet::new();
        while let Some(id) = host_roots.pop() {
            if host.insert(id) {
                host_roots.extend(deps_of(
                    id,
                    &[DependencyKind::Normal, DependencyKind::Build],
                ));
            }
        }
        Graph {
            metadata,
            nodes,
            linked,
            host,
        }
    }

    /// The names of the build dependencies of a package, as resolved.
    pub fn build_dependencies(&self, id: &PackageId) -> impl Iterator<Item = &'a str> + '_ {
        self.nodes
            .get(id)
            .into_iter()
            .flat_map(|node| &node.deps)
            .filter(|dep| {
                dep.dep_kinds
                    .iter()
                    .any(|info| info.kind == DependencyKind::Build)
            })
            .map(|dep| self.metadata[&dep.pkg].name.as_str())
    }

    /// The features a package is built with, as resolved.
    pub fn features(&self, id: &PackageId) -> &'a [String] {
        self.nodes.get(id).map_or(&[], |node| &node.features)
    }

    /// The name of a package of the project (a binary's, say).
    pub fn package_name(&self, id: &PackageId) -> &'a str {
        &self.metadata[id].name
    }

    /// The name of any package id cargo reports, if the metadata has it.
    pub fn find_name(&self, id: &PackageId) -> Option<&'a str> {
        let package = self
            .metadata
            .packages
            .iter()
            .find(|package| package.id == *id)?;
        Some(&package.name)
    }

    /// The packages linked into the binaries.
    pub fn linked(&self) -> impl Iterator<Item = &'a Package> + '_ {
        self.linked.keys().map(|id| &self.metadata[*id])
    }

    /// The dependency path from a binary's package to `id`, both included.
    pub fn path_to(&self, id: &'a PackageId) -> Vec<&'a Package> {
        let mut path = vec![&self.metadata[id]];
        let mut at = id;
        while let Some(Some(parent)) = self.linked.get(at) {
            path.push(&self.metadata[*parent]);
            at = parent;
        }
        path.reverse();
        path
    }

    /// "your dependency reqwest pulls it in (app → reqwest → native-tls → openssl-sys)": the
    /// first package on the path that is not the user's own is the one to replace or configure.
    pub fn pulled_in_by(&self, id: &'a PackageId) -> String {
        let path = self.path_to(id);
        let names: Vec<&str> = path.iter().map(|package| package.name.as_str()).collect();
        let own = |package: &Package| self.metadata.workspace_members.contains(&package.id);
        let chain = names.join(" → ");
        match path.iter().position(|package| !own(package)) {
            None | Some(0) => format!("it is part of your workspace ({chain})"),
            Some(at) if at + 1 == path.len() => {
                format!("{} depends on it directly ({chain})", names[at - 1])
            }
            Some(at) => format!(
                "your dependency {} pulls it in ({chain}; in {}'s Cargo.toml)",
                names[at],
                names[at - 1]
            ),
        }
    }

    /// The package of this name the build compiles for the target, if any.
    pub fn find_linked(&self, name: &str) -> Option<&'a PackageId> {
        self.linked
            .keys()
            .copied()
            .filter(|id| self.metadata[*id].name == name)
            .min_by_key(|id| self.path_to(id).len())
    }

    /// How many `compiler-artifact` messages cargo is expected to print: one per library and
    /// build script compiled (a package needed on both sides is compiled twice) and one per
    /// binary. An estimate, for the progress bar: features can change it a little.
    pub fn expected_artifacts(&self, bins: usize) -> u64 {
        let has = |package: &Package, kind: fn(&cargo_metadata::Target) -> bool| {
            u64::from(package.targets.iter().any(kind))
        };
        let libraries =
            |package: &Package| has(package, |t| t.is_lib() || t.is_rlib() || t.is_proc_macro());
        let linked: u64 = self.linked().map(libraries).sum();
        let host: u64 = self
            .host
            .iter()
            .map(|id| libraries(&self.metadata[*id]))
            .sum();
        let build_scripts: u64 = self
            .linked
            .keys()
            .chain(self.host.iter())
            .collect::<HashSet<_>>()
            .into_iter()
            .map(|id| has(&self.metadata[*id], |t| t.is_custom_build()))
            .sum();
        linked + host + build_scripts + bins as u64
    }
}

fn is_proc_macro(package: &Package) -> bool {
    package.targets.iter().any(|target| target.is_proc_macro())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cargo_error_becomes_one_line_with_its_innermost_cause() {
        let stderr = "error: failed to parse manifest at `/p/Cargo.toml`\n\nCaused by:\n  TOML parse error at line 1, column 5\n    |\n  1 | [pac\n    |     ^\n  invalid table header\n";
        assert_eq!(
            first_error(stderr),
            "failed to parse manifest at `/p/Cargo.toml`: TOML parse error at line 1, column 5"
        );
    }

    #[test]
    fn cargo_error_that_points_into_the_manifest_keeps_the_place() {
        let stderr = "error: unclosed table, expected `]`\n --> p/Cargo.toml:1:9\n  |\n1 | [package\n  |         ^\n";
        assert_eq!(
            first_error(stderr),
            "unclosed table, expected `]` at p/Cargo.toml:1:9"
        );
    }

    #[test]
    fn cargo_error_without_a_cause_is_kept_as_it_is() {
        assert_eq!(
            first_error(
                "warning: x\nerror: the manifest-path must be a path to a Cargo.toml file\n"
            ),
            "the manifest-path must be a path to a Cargo.toml file"
        );
    }
}
