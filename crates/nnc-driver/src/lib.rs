//! The nnc pipeline as a library: what every command does, short of parsing arguments and
//! printing.
//!
//! [`check`] takes source text to checked jobs with their data loaded and checked against
//! each model and their graphs built; everything that can fail before training fails
//! there, so `nnc check` and `nnc run` share one path. [`run`] compiles, trains and
//! evaluates, returning report data ([`RunReport`]); [`stage_text`] prints any compiler
//! stage.

mod agree;
pub mod cluster;
mod compile;
pub mod embed;
mod graphs;
mod init;
pub mod limits;
pub mod memory;
pub mod metrics;
mod output;
mod pace;
mod pipeline;
pub mod predict;
pub mod products;
mod report;
mod run;
pub mod similar;
mod stages;
pub mod units;
pub mod weights;

pub use compile::{Functions, compile_job, compile_minimization};
pub use graphs::{DescentGraphs, Graphs, requested_eval_rows};
pub use init::initial_params;
pub use memory::{Need, check_source};
pub use nnc_codegen::Options as CodegenOptions;
pub use nnc_codegen::cpu::describe as describe_cpu;
pub use nnc_codegen::cpu::{lowered_class_note, requested_class, requested_threads, variable as env_variable};
pub use nnc_runtime::{MAX_POINTS, Point, sampling_stride};
pub use nnc_syntax::format;
pub use output::{AtomicFile, remove_partial_files, write_atomically};
pub use pace::Pace;
pub use pipeline::{Checked, JobPlan, MinimizePlan, Overrides, check};
pub use report::{
    JobReport, KernelProfile, LISTED_ROWS, MinimizeReport, NamedTensor, RunReport, SAMPLED_BYTES, SAMPLED_ROWS,
    SplitReport, Timings, keeps_hidden, pictured_layer, sampled_rows,
};
pub use run::{
    DescentListener, Progress, Watch, evaluate_splits, run, run_checked, run_watched, schedule, train, train_recorded,
    train_variant,
};
pub use stages::{Stage, stage_text, stage_text_for};
