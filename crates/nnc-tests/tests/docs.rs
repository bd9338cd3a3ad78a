//! The documents stay true: every ```nn snippet in the language reference, the README and
//! the tutorials parses.

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

/// Every snippet of `document` parses; returns how many there are.
fn check_snippets(document: &str) -> usize {
    let markdown = std::fs::read_to_string(repo_root().join(document)).expect("the document exists");
    let snippets = snippets(&markdown);
    for (line, text) in &snippets {
        if let Err(diagnostics) = nnc_syntax::parse(text) {
            panic!(
                "{document} snippet at line {line} does not parse:\n{}",
                nnc_diagnostics::render("snippet.nn", text, &diagnostics)
            );
        }
    }
    snippets.len()
}

#[test]
fn every_language_snippet_parses() {
    let found = check_snippets("docs/language.md");
    assert!(found >= 10, "expected the reference to have snippets, found {found}");
}

#[test]
fn the_readme_and_tutorial_programs_parse() {
    for document in ["README.md", "docs/tutorial.md", "docs/tutorial.zh-TW.md"] {
        assert!(check_snippets(document) >= 1, "{document} shows no program");
    }
}

/// Every markdown file of the repository outside `target/`.
fn markdown_files() -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![repo_root()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable folder").flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if path.is_dir() && !matches!(name.to_str(), Some("target" | ".git" | "node_modules")) {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                found.push(path);
            }
        }
    }
    found
}

/// The relative targets of `[text](target)` links, without their `#anchor`.
fn relative_links(markdown: &str) -> Vec<&str> {
    markdown
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .map(|target| target.split('#').next().unwrap_or(""))
        .filter(|target| !target.is_empty() && !target.contains("://") && !target.contains(' '))
        .collect()
}

#[test]
fn every_relative_link_in_the_documents_points_at_a_file() {
    let mut broken = Vec::new();
    for file in markdown_files() {
        let markdown = std::fs::read_to_string(&file).expect("readable document");
        let folder = file.parent().expect("a file has a folder");
        for target in relative_links(&markdown) {
            if !folder.join(target).exists() {
                broken.push(format!("{}: {target}", file.display()));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}
