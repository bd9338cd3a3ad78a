//! Every ```console block of the documentation is a transcript: each `$ nnc ...` line is
//! run from the repository root and must print what follows it, up to the next `$` line
//! (a line `...` stands for any number of lines). Output that depends on training
//! numbers, which may differ in their last digits between CPUs, is shown in ```text
//! blocks instead, which are not run.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

mod common;

use common::root;

use assert_cmd::Command;
use std::path::PathBuf;

/// Every markdown file under `docs/` and the README.
fn documents() -> Vec<PathBuf> {
    let mut files = vec![root().join("README.md")];
    let mut dirs = vec![root().join("docs")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// `(command, expected output lines)` of every console block of `text`.
fn transcripts(text: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    let mut in_console = false;
    for line in text.lines() {
        if line.starts_with("```") {
            in_console = line.trim() == "```console";
            continue;
        }
        if !in_console {
            continue;
        }
        match line.strip_prefix("$ ") {
            Some(command) => out.push((command.to_string(), Vec::new())),
            None => {
                if let Some((_, expected)) = out.last_mut() {
                    expected.push(line.to_string());
                }
            }
        }
    }
    out
}

/// Whether `actual` matches `expected`, where a line `...` matches any run of lines.
fn matches(expected: &[String], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.iter().all(|l| l.trim().is_empty()),
        Some((first, rest)) if first == "..." => (0..=actual.len()).any(|skip| matches(rest, &actual[skip..])),
        Some((first, rest)) => {
            actual.first().is_some_and(|a| a.trim_end() == first.trim_end()) && matches(rest, &actual[1..])
        }
    }
}

#[test]
fn every_console_transcript_in_the_docs_is_what_nnc_prints() {
    let mut checked = 0;
    for document in documents() {
        let text = std::fs::read_to_string(&document).unwrap();
        for (command, expected) in transcripts(&text) {
            let words: Vec<&str> = command.split_whitespace().collect();
            assert_eq!(words[0], "nnc", "{}: only nnc commands are run: {command}", document.display());
            let output =
                Command::new(env!("CARGO_BIN_EXE_nnc")).args(&words[1..]).current_dir(root()).output().unwrap();
            // A failing command's transcript shows its diagnostics (standard error).
            let mut stdout = String::from_utf8_lossy(&output.stdout).into_owned();
            if !output.status.success() {
                stdout.push_str(&String::from_utf8_lossy(&output.stderr));
            }
            let actual: Vec<&str> = stdout.lines().collect();
            assert!(
                matches(&expected, &actual),
                "{}: `{command}` printed\n{stdout}\nbut the document shows\n{}",
                document.display(),
                expected.join("\n")
            );
            checked += 1;
        }
    }
    assert!(checked >= 5, "only {checked} transcripts found");
}

/// The code blocks (programs, commands and their transcripts) of a document, in order.
fn code_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if line.starts_with("```") {
            match current.take() {
                Some(block) => blocks.push(block),
                None => current = Some(format!("{line}\n")),
            }
        } else if let Some(block) = current.as_mut() {
            block.push_str(line);
            block.push('\n');
        }
    }
    blocks
}

/// The translation is the same tutorial: every program, command and transcript of the
/// English text appears in it, in the same order, so the test above checks both.
#[test]
fn the_translated_tutorial_shows_the_same_commands() {
    let read = |name: &str| std::fs::read_to_string(root().join("docs").join(name)).unwrap();
    let english = code_blocks(&read("tutorial.md"));
    let chinese = code_blocks(&read("tutorial.zh-TW.md"));
    assert!(english.len() >= 10, "only {} code blocks in the tutorial", english.len());
    for (i, (en, zh)) in english.iter().zip(&chinese).enumerate() {
        assert_eq!(en, zh, "code block {} of tutorial.zh-TW.md differs from tutorial.md", i + 1);
    }
    assert_eq!(english.len(), chinese.len(), "tutorial.zh-TW.md has a different number of code blocks");
}
