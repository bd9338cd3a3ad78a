//! Checking: the AST to resolved, typed [`Job`]s and [`Minimize`]s, reporting every user
//! error as a diagnostic (codes E02xx for names, E03xx for shapes and widths, E04xx for
//! training and data settings). Nothing here builds a graph: `nnc-lower` does, from what
//! this crate has checked.
//!
//! - `program.rs`: name resolution, each `train` block to its model and data;
//! - `model.rs`: a model's input, layers, their options and initialisers;
//! - `shapes.rs`: each layer's shapes settled from the input, literal weights checked;
//! - `train.rs`: a `train` block's settings, and whether they fit the model and data;
//! - `data.rs`: a `data` block to an `nnc_data::DataSpec`;
//! - `objective.rs`: a `minimize` block, its formula resolved;
//! - `settings.rs`: reading `key value` settings, unknown keys with a did-you-mean hint;
//! - `job.rs`: the checked, resolved types.

mod data;
mod job;
mod model;
mod objective;
mod program;
mod settings;
mod shapes;
mod train;

pub use job::{
    Activation, ColumnSlot, Features, Init, Job, Layer, LayerKind, Loss, Metric, MetricKind, Model, Padding, ParamSpec,
    Sampler, Schedule, Source, TrainConfig,
};
pub use model::LAYER_KINDS;
pub use objective::{Formula, Function, Minimize, Operator};
pub use program::{Checked, check};
pub use shapes::{InputColumn, conv_padding, settle};
