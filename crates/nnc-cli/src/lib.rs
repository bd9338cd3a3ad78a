//! The nnc driver: the pipeline as functions ([`driver`]) and the text and JSON reports
//! of a run ([`report`]). The `nnc` binary is a thin command-line layer over these.

pub mod driver;
pub mod metrics;
pub mod report;
