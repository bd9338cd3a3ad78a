//! The crate graph is the architecture: this test reads `cargo metadata` and fails when a
//! dependency crosses a stage boundary (see `docs/architecture.md`).

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use cargo_metadata::{DependencyKind, MetadataCommand};
use std::collections::{BTreeMap, BTreeSet};

/// Every workspace crate's normal (non-dev) dependencies, workspace and external.
fn dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let root = nnc_tests::repo_root();
    let metadata = MetadataCommand::new().manifest_path(root.join("Cargo.toml")).no_deps().exec().unwrap();
    metadata
        .workspace_packages()
        .into_iter()
        .map(|package| {
            let deps = package
                .dependencies
                .iter()
                .filter(|d| d.kind == DependencyKind::Normal)
                .map(|d| d.name.clone())
                .collect();
            (package.name.to_string(), deps)
        })
        .collect()
}

/// Everything `krate` depends on, directly or through other workspace crates.
fn closure(graph: &BTreeMap<String, BTreeSet<String>>, krate: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![krate.to_string()];
    while let Some(next) = todo.pop() {
        for dep in graph.get(&next).into_iter().flatten() {
            if seen.insert(dep.clone()) {
                todo.push(dep.clone());
            }
        }
    }
    seen
}

fn nnc_crates(deps: &BTreeSet<String>) -> Vec<&str> {
    deps.iter().filter(|d| d.starts_with("nnc-")).map(String::as_str).collect()
}

#[test]
fn the_ir_depends_on_nothing_of_nnc_but_diagnostics() {
    let graph = dependencies();
    assert_eq!(nnc_crates(&closure(&graph, "nnc-ir")), ["nnc-diagnostics"]);
}

#[test]
fn the_runtime_depends_on_neither_syntax_nor_checking_nor_passes() {
    let graph = dependencies();
    let runtime = closure(&graph, "nnc-runtime");
    for forbidden in ["nnc-syntax", "nnc-lower", "nnc-opt", "nnc-autodiff", "nnc-data", "nnc-driver"] {
        assert!(!runtime.contains(forbidden), "nnc-runtime depends on {forbidden}: {:?}", nnc_crates(&runtime));
    }
    assert!(runtime.contains("nnc-codegen") && runtime.contains("nnc-ir"));
}

#[test]
fn only_the_code_generator_depends_on_cranelift() {
    let graph = dependencies();
    for (krate, deps) in &graph {
        let cranelift: Vec<&String> = deps.iter().filter(|d| d.starts_with("cranelift")).collect();
        if krate != "nnc-codegen" {
            assert!(cranelift.is_empty(), "{krate} depends on {cranelift:?}");
        }
    }
    assert!(graph["nnc-codegen"].contains("cranelift-jit"));
}

#[test]
fn data_and_syntax_know_nothing_of_each_other_or_of_later_stages() {
    let graph = dependencies();
    assert_eq!(nnc_crates(&closure(&graph, "nnc-data")), ["nnc-diagnostics"]);
    assert_eq!(nnc_crates(&closure(&graph, "nnc-syntax")), ["nnc-diagnostics"]);
}

#[test]
fn the_cli_reaches_the_pipeline_only_through_the_driver_and_the_views() {
    let graph = dependencies();
    let direct = nnc_crates(&graph["nnc-cli"]);
    assert_eq!(
        direct,
        ["nnc-data", "nnc-diagnostics", "nnc-driver", "nnc-export", "nnc-inspect", "nnc-plot", "nnc-serve"]
    );
}

#[test]
fn the_views_sit_on_the_driver_and_only_the_cli_and_tests_use_them() {
    let graph = dependencies();
    assert!(graph["nnc-inspect"].contains("nnc-driver"));
    for (krate, deps) in &graph {
        if deps.contains("nnc-inspect") {
            assert!(["nnc-cli", "nnc-serve", "nnc-tests"].contains(&krate.as_str()), "{krate} depends on nnc-inspect");
        }
    }
}

/// The table of `docs/architecture.md` is the crate graph, edge for edge: a dependency
/// added or removed without the document is a failure.
#[test]
fn the_documented_crate_graph_is_the_real_one() {
    let text = std::fs::read_to_string(nnc_tests::repo_root().join("docs/architecture.md")).unwrap();
    let start = text.find("| crate | depends on |").expect("the crate graph table");
    let documented: BTreeMap<String, BTreeSet<String>> = text[start..]
        .lines()
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let deps = cells[2].split(',').map(str::trim).filter(|d| d.starts_with("nnc-")).map(str::to_string);
            (cells[1].to_string(), deps.collect())
        })
        .collect();
    let real: BTreeMap<String, BTreeSet<String>> = dependencies()
        .into_iter()
        .map(|(krate, deps)| (krate, deps.into_iter().filter(|d| d.starts_with("nnc-")).collect()))
        .collect();
    assert_eq!(documented, real, "docs/architecture.md's crate graph differs from Cargo.toml's");
}

/// Which crates' sources use `needles`, outside tests, benches and the test crates.
fn crates_using(needles: &[&str]) -> BTreeSet<String> {
    let root = nnc_tests::repo_root().join("crates");
    let mut found = BTreeSet::new();
    for krate in std::fs::read_dir(&root).unwrap().flatten() {
        let name = krate.file_name().to_string_lossy().into_owned();
        let mut stack = vec![krate.path().join("src")];
        while let Some(folder) = stack.pop() {
            for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    // Unit tests may make temporary files.
                    let code = text.split("#[cfg(test)]").next().unwrap_or("");
                    if needles.iter().any(|n| code.contains(n)) {
                        found.insert(name.clone());
                    }
                }
            }
        }
    }
    for test_crate in ["nnc-tests", "nnc-testkit", "nnc-bench"] {
        found.remove(test_crate);
    }
    found
}

/// The architecture's invariant: the stages between reading and writing are pure.
#[test]
fn only_the_documented_crates_touch_files_or_the_clock() {
    let files = crates_using(&["std::fs", "fs::", "File::open", "File::create", "OpenOptions", "tempfile::"]);
    // nnc-serve reads the program file it edits (and writes it through the driver).
    assert_eq!(files, BTreeSet::from(["nnc-cli", "nnc-data", "nnc-driver", "nnc-serve"].map(String::from)), "files");
    let clock = crates_using(&["Instant", "SystemTime"]);
    // nnc-serve paces what reaches the page, and a run slowed to N epochs a second.
    let timed = ["nnc-cli", "nnc-codegen", "nnc-driver", "nnc-serve"];
    assert_eq!(clock, BTreeSet::from(timed.map(String::from)), "the clock");
}

/// Checking builds no graph and lowering reads no syntax: the front end's two halves.
#[test]
fn checking_and_lowering_are_apart() {
    let graph = dependencies();
    let check = closure(&graph, "nnc-check");
    for later in ["nnc-lower", "nnc-opt", "nnc-kernels", "nnc-codegen", "nnc-runtime", "nnc-driver"] {
        assert!(!check.contains(later), "nnc-check depends on {later}");
    }
    assert!(!graph["nnc-lower"].contains("nnc-syntax"), "nnc-lower reads the syntax tree");
}
