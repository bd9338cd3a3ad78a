//! What the binary's test suites share: where the repository is, and the binary run
//! from there.

#![allow(dead_code)] // Each suite uses what it needs.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The binary Cargo built for this package, run from the repository root.
pub fn nnc() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nnc"));
    cmd.current_dir(root());
    cmd
}
