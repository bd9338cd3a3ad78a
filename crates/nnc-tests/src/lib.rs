//! Shared helpers for nnc's test suites: where the test data lives and how to find cases.

use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every `.nn` file directly inside `dir`, sorted.
pub fn nn_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "nn"));
    files.sort();
    files
}

/// Whether goldens should be rewritten instead of checked (`BLESS=1`, never in CI).
pub fn blessing() -> bool {
    std::env::var_os("BLESS").is_some_and(|v| v != "0") && std::env::var_os("CI").is_none()
}
