//! `nnc fmt`: the layout of a messy program pinned (`tests/golden/fmt/`), and on every
//! program of the repository (examples, goldens) formatting is idempotent and leaves the
//! syntax tree unchanged.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use nnc_tests::{compare_golden, nn_files, repo_root};

#[test]
fn a_messy_program_gets_the_canonical_layout() {
    let dir = repo_root().join("tests/golden/fmt");
    for input in nn_files(&dir) {
        let source = std::fs::read_to_string(&input).unwrap();
        let formatted = nnc_syntax::format(&source).unwrap();
        compare_golden(formatted, &input.with_extension("fmt")).unwrap();
    }
}

#[test]
fn formatting_is_idempotent_and_keeps_the_meaning() {
    let root = repo_root();
    let mut checked = 0;
    for dir in ["examples", "tests/golden/ok", "tests/golden/err", "tests/golden/fmt", "tests/views/diagnosis"] {
        for input in nn_files(&root.join(dir)) {
            let source = std::fs::read_to_string(&input).unwrap();
            let Ok(tree) = nnc_syntax::parse(&source) else { continue };
            let once = nnc_syntax::format(&source).unwrap();
            let twice = nnc_syntax::format(&once).unwrap();
            assert_eq!(once, twice, "{}: formatting twice changes it", input.display());
            let reparsed = nnc_syntax::parse(&once).unwrap_or_else(|e| panic!("{}: {e:?}\n{once}", input.display()));
            assert_eq!(
                nnc_syntax::print_program(&reparsed),
                nnc_syntax::print_program(&tree),
                "{}: formatting changed the program",
                input.display()
            );
            let comments = |text: &str| text.lines().filter(|l| l.contains("//")).count();
            assert_eq!(comments(&once), comments(&source), "{}: a comment was lost", input.display());
            checked += 1;
        }
    }
    assert!(checked > 40, "only {checked} programs");
}

#[test]
fn examples_are_formatted() {
    for input in nn_files(&repo_root().join("examples")) {
        let source = std::fs::read_to_string(&input).unwrap();
        assert_eq!(nnc_syntax::format(&source).unwrap(), source, "{} is not formatted", input.display());
    }
}
