//! Whatever a user types: generated well-formed programs, and the repository's programs
//! with random edits (bytes deleted, repeated or replaced by tokens of the language,
//! extreme numbers), each checked and, where that succeeds, run for two epochs under a
//! 256 MiB cap. Every one ends in a diagnostic or a result, never a panic or an abort,
//! and within a time bound. (`fuzz/` runs the same for hours; this is CI's bounded share,
//! `PROPTEST_CASES` programs of each kind, 96 by default.)

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use nnc_driver::Overrides;
use nnc_tests::generate::net;
use nnc_tests::{nn_files, repo_root};
use proptest::prelude::*;
use std::time::{Duration, Instant};

/// What one program may take, whatever it says.
const TIME_LIMIT: Duration = Duration::from_secs(20);

fn overrides() -> Overrides {
    Overrides { epochs: Some(2), memory_limit: Some(256 << 20), ..Overrides::default() }
}

/// Checks and (when quick) runs `source` in the examples folder, catching panics: the
/// panic's message, or how long it took.
fn survive(source: &str) -> Result<Duration, String> {
    let started = Instant::now();
    let dir = repo_root().join("examples");
    let outcome = std::panic::catch_unwind(|| {
        let _ = nnc_driver::format(source);
        let Ok(checked) = nnc_driver::check(source, &dir, overrides()) else { return };
        let rows: usize = checked.jobs.iter().map(|plan| plan.data.train.rows).sum();
        let short = checked.minimizations.iter().all(|m| m.minimization.steps <= 2000) && rows <= 100_000;
        if short && !source.contains("save_layer") {
            let _ = nnc_driver::run_checked(&checked, &dir, overrides(), 0.0);
        }
    });
    match outcome {
        Ok(()) => Ok(started.elapsed()),
        Err(panic) => Err(panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()),
    }
}

fn programs() -> Vec<String> {
    let root = repo_root();
    let mut files = nn_files(&root.join("examples"));
    files.extend(nn_files(&root.join("tests/golden/ok")));
    files.extend(nn_files(&root.join("tests/golden/err")));
    files.into_iter().map(|f| std::fs::read_to_string(f).unwrap()).collect()
}

/// Pieces of the language and of its edge cases to splice in.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ",",
    ";",
    "\n",
    "->",
    "=",
    "//",
    "\"",
    "..",
    "-",
    "^",
    "*",
    "0",
    "1",
    "-1",
    "1e39",
    "3.4e38",
    "1e-45",
    "0.0000001",
    "99999999999",
    "2147483648",
    "18446744073709551616",
    "nan",
    "inf",
    "dense",
    "input",
    "auto",
    "relu",
    "softmax",
    "sigmoid",
    "data",
    "model",
    "train",
    "on",
    "minimize",
    "param",
    "objective",
    "epochs",
    "batch",
    "loss",
    "mse",
    "bce",
    "softmax_ce",
    "mae",
    "optimizer",
    "sgd(lr = 1e30)",
    "adam(lr = 0)",
    "split 0.5 0.5",
    "split 1 0",
    "window",
    "features",
    "target",
    "file \"data/iris.csv\"",
    "categorical",
    "missing_values",
    "early_stopping(patience = 0)",
    "schedule step(every = 0, factor = 2)",
    "seed 18446744073709551615",
    "weights = [[1e38]]",
    "x",
    "é",
    "\u{0}",
];

#[derive(Clone, Debug)]
enum Edit {
    Delete { at: usize, len: usize },
    Repeat { at: usize, len: usize },
    Insert { at: usize, token: usize },
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 1..40usize).prop_map(|(at, len)| Edit::Delete { at, len }),
        (any::<usize>(), 1..40usize).prop_map(|(at, len)| Edit::Repeat { at, len }),
        (any::<usize>(), 0..TOKENS.len()).prop_map(|(at, token)| Edit::Insert { at, token }),
    ]
}

/// `source` with `edits` applied, at character boundaries.
fn edited(source: &str, edits: &[Edit]) -> String {
    let mut text = source.to_string();
    let boundary = |text: &str, at: usize| {
        let mut at = at % (text.len() + 1);
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        at
    };
    for edit in edits {
        match *edit {
            Edit::Delete { at, len } => {
                let start = boundary(&text, at);
                let end = boundary(&text, start + len.min(text.len() - start));
                text.replace_range(start..end, "");
            }
            Edit::Repeat { at, len } => {
                let start = boundary(&text, at);
                let end = boundary(&text, start + len.min(text.len() - start));
                let piece = text[start..end].to_string();
                text.insert_str(end, &piece);
            }
            Edit::Insert { at, token } => {
                let at = boundary(&text, at);
                text.insert_str(at, &format!(" {} ", TOKENS[token]));
            }
        }
    }
    text
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(96)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn edited_programs_end_in_a_diagnostic_or_a_result(program in any::<prop::sample::Index>(), edits in prop::collection::vec(edit(), 1..5)) {
        let programs = programs();
        let source = edited(&programs[program.index(programs.len())], &edits);
        match survive(&source) {
            Ok(took) => prop_assert!(took < TIME_LIMIT, "took {took:?}:\n{source}"),
            Err(panic) => prop_assert!(false, "panicked: {panic}\n{source}"),
        }
    }

    #[test]
    fn generated_programs_end_in_a_diagnostic_or_a_result(net in net()) {
        let source = net.source();
        match survive(&source) {
            Ok(took) => prop_assert!(took < TIME_LIMIT, "took {took:?}:\n{source}"),
            Err(panic) => prop_assert!(false, "panicked: {panic}\n{source}"),
        }
    }
}
