//! Test support shared by every crate's tests, with no dependencies of its own (so any
//! crate can take it as a dev-dependency).
//!
//! A test that cannot run here (its tool is missing, the CPU lacks an instruction set)
//! calls [`skip`]: besides printing the reason, which libtest hides for a passing test, it
//! appends a line to the file named by `NNC_SKIP_LOG`, which `.ci/run` sets and counts in
//! its summary line. Under `NNC_REQUIRE_ALL=1` (set by CI where it installed every tool) a
//! skip fails the test instead: a check that passes when its tool is missing proves
//! nothing.

use std::io::Write;

/// Records that `test` did not run because of `reason` (see the crate docs); panics
/// instead when `NNC_REQUIRE_ALL` is set.
pub fn skip(test: &str, reason: &str) {
    if std::env::var_os("NNC_REQUIRE_ALL").is_some_and(|v| v != "0") {
        panic!("{test} cannot run: {reason} (NNC_REQUIRE_ALL is set)");
    }
    eprintln!("SKIPPED {test}: {reason}");
    if let Some(path) = std::env::var_os("NNC_SKIP_LOG") {
        let line = format!("{test}: {reason}\n");
        let file = std::fs::OpenOptions::new().create(true).append(true).open(path);
        if let Err(error) = file.and_then(|mut f| f.write_all(line.as_bytes())) {
            panic!("cannot record the skip of {test} in NNC_SKIP_LOG: {error}");
        }
    }
}
