//! The `nnc` command line as a library: the verbs (`verbs/`), their text and JSON
//! reports (`report.rs`), progress while training (`progress.rs`), how results and
//! diagnostics reach the terminal (`output.rs`) and the environment variables it checks
//! before it runs (`environment.rs`).

pub mod environment;
pub mod interrupt;
pub mod output;
pub mod progress;
pub mod report;
pub mod verbs;
