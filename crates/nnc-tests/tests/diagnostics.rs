//! Diagnostics as a contract: `nnc check` and `nnc run` report the same codes, every
//! machine-applicable hint removes the error it is attached to, and `docs/errors.md`
//! lists exactly the registered codes, each with a wrong program that really gives it.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use nnc_diagnostics::{Code, Diagnostic, codes};
use nnc_driver::Overrides;
use nnc_tests::{nn_files, repo_root};
use std::path::Path;

/// Codes only training itself or writing its outputs can give: `check` stops before them.
const RUN_ONLY: [Code; 2] = [codes::DIVERGED, codes::WRITE_FAILED];

fn codes_of(diagnostics: &[Diagnostic]) -> Vec<&'static str> {
    let mut ids: Vec<&str> = diagnostics.iter().map(|d| d.code.id).collect();
    ids.sort_unstable();
    ids
}

fn check_errors(source: &str, dir: &Path) -> Vec<Diagnostic> {
    nnc_driver::check(source, dir, Overrides::default()).err().unwrap_or_default()
}

/// A short run: enough epochs to diverge where a program diverges.
fn run_errors(source: &str, dir: &Path) -> Vec<Diagnostic> {
    nnc_driver::run(source, dir, Overrides::default()).err().unwrap_or_default()
}

fn error_cases() -> Vec<(String, String)> {
    let dir = repo_root().join("tests/golden/err");
    nn_files(&dir)
        .into_iter()
        .map(|path| (path.display().to_string(), std::fs::read_to_string(&path).unwrap()))
        .collect()
}

#[test]
fn check_and_run_report_the_same_codes() {
    let dir = repo_root().join("tests/golden/err");
    let cases = error_cases();
    assert!(cases.len() >= 30, "expected the error goldens");
    for (name, source) in cases {
        let (checked, ran) = (check_errors(&source, &dir), run_errors(&source, &dir));
        assert!(!ran.is_empty(), "{name}: run should fail");
        if ran.iter().all(|d| RUN_ONLY.contains(&d.code)) {
            assert!(checked.is_empty(), "{name}: check reports {:?} for a run-time error", codes_of(&checked));
        } else {
            assert_eq!(codes_of(&checked), codes_of(&ran), "{name}: check and run disagree");
        }
    }
}

/// Applying a diagnostic's fix must make that diagnostic go away: no hint may point the
/// wrong way.
#[test]
fn every_fix_removes_its_error() {
    let dir = repo_root().join("tests/golden/err");
    let mut fixes = 0;
    for (name, source) in error_cases() {
        let errors = run_errors(&source, &dir);
        for diagnostic in errors.iter().filter(|d| d.fix.is_some()) {
            let fixed = diagnostic.fix.as_ref().unwrap().apply(&source);
            let after = run_errors(&fixed, &dir);
            let count = |list: &[Diagnostic]| list.iter().filter(|d| d.code == diagnostic.code).count();
            assert!(
                count(&after) < count(&errors),
                "{name}: applying the fix of {} ({:?}) leaves it:\n{fixed}\n{}",
                diagnostic.code.id,
                diagnostic.help,
                nnc_diagnostics::render("fixed.nn", &fixed, &after)
            );
            fixes += 1;
        }
    }
    assert!(fixes >= 10, "only {fixes} fixes exercised");
}

/// `docs/errors.md`: one `## E....` section per registered code, in order, and each
/// section's ```nn program (run against `tests/golden/err/`, where the damaged data files
/// live) gives that code.
#[test]
fn error_reference_lists_every_code_and_its_examples_give_it() {
    let text = std::fs::read_to_string(repo_root().join("docs/errors.md")).unwrap();
    let sections: Vec<(&str, &str)> = text
        .split("\n## ")
        .skip(1)
        .map(|section| {
            let id = section.split_whitespace().next().unwrap();
            (id, section)
        })
        .collect();
    let documented: Vec<&str> = sections.iter().map(|(id, _)| *id).collect();
    let registered: Vec<&str> = codes::ALL.iter().map(|c| c.id).collect();
    assert_eq!(documented, registered, "docs/errors.md must list every registered code, in order");
    let dir = repo_root().join("tests/golden/err");
    for (id, section) in sections {
        let Some(program) = section.split("```nn\n").nth(1).and_then(|rest| rest.split("```").next()) else {
            // Codes about the command line's files (weights, rows to predict) show a
            // transcript instead, which `nnc-cli/tests/docs_commands.rs` runs.
            let transcript = section.split("```console\n").nth(1).unwrap_or_default();
            assert!(
                id == codes::INTERNAL.id || transcript.contains(&format!("error[{id}]")),
                "{id} has no example program or transcript"
            );
            continue;
        };
        let found = codes_of(&run_errors(program, &dir));
        assert!(found.contains(&id), "the example of {id} gives {found:?}:\n{program}");
    }
}

/// Nothing in the sources names a code by its string: every code goes through the registry.
#[test]
fn codes_are_only_named_in_the_registry() {
    for crate_dir in std::fs::read_dir(repo_root().join("crates")).unwrap() {
        let src = crate_dir.unwrap().path().join("src");
        for file in walk(&src) {
            if file.ends_with("nnc-diagnostics/src/codes.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&file).unwrap();
            for (line, content) in text.lines().enumerate() {
                let literal = content.match_indices("\"E0").any(|(at, _)| {
                    content[at + 1..].chars().take(5).filter(char::is_ascii_alphanumeric).count() == 5
                        && content[at + 6..].starts_with('"')
                });
                assert!(!literal, "{}:{}: a code as a string literal: {content}", file.display(), line + 1);
            }
        }
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// A program saved with a UTF-8 byte-order mark (Windows editors write one) parses as
/// without it, and its diagnostics still point at the right bytes of the text as read.
#[test]
fn a_byte_order_mark_before_the_program_is_not_a_syntax_error() {
    let program =
        "data d { a -> y; 0 -> 1; 1 -> 0 }\nmodel m { input 1; dense 1 }\ntrain m on d { loss mse; epochs 2 }\n";
    let dir = tempfile::tempdir().unwrap();
    let marked = format!("\u{feff}{program}");
    assert!(nnc_driver::check(&marked, dir.path(), Overrides::default()).is_ok());
    let wrong = marked.replace("epochs 2", "bogus 2");
    let errors = check_errors(&wrong, dir.path());
    assert_eq!(codes_of(&errors), ["E0205"]);
    let span = errors[0].primary.span;
    assert_eq!(&wrong[span.start as usize..span.end as usize], "bogus");
}
