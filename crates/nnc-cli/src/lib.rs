//! The `nnc` command's printing: the text and JSON reports of a run. The pipeline itself
//! is `nnc-driver`; the binary parses arguments and prints.

pub mod report;
