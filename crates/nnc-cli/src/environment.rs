//! The environment variables that steer a run (`NNC_CPU`, `NNC_THREADS`,
//! `NNC_MEMORY_LIMIT`, `NNC_EVAL_ROWS`; docs/cli.md), checked before anything runs. Each
//! is read where it acts; here a value none of them can use stops the command, since
//! ignoring it would measure or limit something other than what was asked for.

/// The first variable whose value cannot be used, as a message naming it and what it
/// takes.
pub fn error() -> Option<String> {
    let checks = [
        nnc_driver::requested_class().map(drop),
        nnc_driver::requested_threads().map(drop),
        crate::output::memory_limit().map(drop),
        nnc_driver::requested_eval_rows().map(drop),
    ];
    checks.into_iter().find_map(Result::err)
}

/// What to say before running when a variable is honoured only in part.
pub fn note() -> Option<String> {
    nnc_driver::lowered_class_note()
}
