//! Checking and lowering: the AST to resolved [`Job`]s (reporting every user error as a
//! diagnostic), and a job's model to a forward graph of IR primitives.

mod check;
mod forward;
mod job;
mod settings;

pub use check::check;
pub use forward::{Forward, lower_forward};
pub use job::{Activation, Job, Layer, Loss, Model, TrainConfig};
