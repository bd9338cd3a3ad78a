//! The TextMate grammar in `editors/`: it is valid JSON whose includes all resolve, and
//! (where Node is installed) `editors/test/tokenize.js` tokenises every program of the
//! repository with it, finding no unscoped or invalid text and no region left open — and
//! does find them in a broken program.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use nnc_tests::{nn_files, repo_root};
use std::process::Command;

#[test]
fn the_grammar_is_valid_json_and_every_include_resolves() {
    let text = std::fs::read_to_string(repo_root().join("editors/nn.tmLanguage.json")).unwrap();
    let grammar: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(grammar["scopeName"], "source.nn");
    let repository = grammar["repository"].as_object().unwrap();
    let layers = text.lines().find(|l| l.contains("storage.type.layer.nn")).unwrap();
    for kind in nnc_check::LAYER_KINDS {
        assert!(
            layers.contains(&format!("|{kind}|")) || layers.contains(&format!("({kind}|")),
            "layer `{kind}` is not coloured as a layer"
        );
    }
    for include in text.match_indices("\"include\": \"#").map(|(at, _)| &text[at + 13..]) {
        let name = include.split('"').next().unwrap();
        assert!(repository.contains_key(name), "#{name} is not in the repository");
    }
}

#[test]
fn node_tokenises_every_program_and_catches_broken_ones() {
    if Command::new("node").arg("--version").output().is_err() {
        nnc_testkit::skip("node_tokenises_every_program", "node is not installed");
        return;
    }
    let root = repo_root();
    let script = root.join("editors/test/tokenize.js");
    let mut files = Vec::new();
    for dir in ["examples", "tests/golden/ok", "tests/golden/fmt", "tests/views/diagnosis"] {
        files.extend(nn_files(&root.join(dir)));
    }
    let output = Command::new("node").arg(&script).args(&files).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let broken = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(broken.path(), "model m {\n  input 2 @\n  dense 1\n").unwrap();
    let output = Command::new("node").arg(&script).arg(broken.path()).output().unwrap();
    let errors = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success() && errors.contains("invalid \"@\"") && errors.contains("still open"), "{errors}");
}
