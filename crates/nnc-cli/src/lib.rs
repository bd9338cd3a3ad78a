//! The `nnc` command line as a library: the verbs (`verbs/`), their text and JSON
//! reports (`report.rs`), progress while training (`progress.rs`) and how results and
//! diagnostics reach the terminal (`output.rs`).

pub mod interrupt;
pub mod output;
pub mod progress;
pub mod report;
pub mod verbs;
