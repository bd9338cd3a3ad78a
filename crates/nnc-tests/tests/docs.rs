//! The language reference stays true: every ```nn snippet in docs/language.md parses.

use nnc_tests::repo_root;

fn snippets(markdown: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (index, line) in markdown.lines().enumerate() {
        match (&mut current, line.trim_end()) {
            (None, "```nn") => current = Some((index + 2, String::new())),
            (Some(_), "```") => found.extend(current.take()),
            (Some((_, text)), _) => {
                text.push_str(line);
                text.push('\n');
            }
            (None, _) => {}
        }
    }
    found
}

#[test]
fn every_language_snippet_parses() {
    let path = repo_root().join("docs/language.md");
    let markdown = std::fs::read_to_string(&path).expect("docs/language.md exists");
    let snippets = snippets(&markdown);
    assert!(snippets.len() >= 10, "expected the reference to have snippets, found {}", snippets.len());
    for (line, text) in snippets {
        if let Err(diagnostics) = nnc_syntax::parse(&text) {
            panic!(
                "docs/language.md snippet at line {line} does not parse:\n{}",
                nnc_diagnostics::render("snippet.nn", &text, &diagnostics)
            );
        }
    }
}
