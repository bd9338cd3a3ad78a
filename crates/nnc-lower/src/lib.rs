//! Checking and lowering: the AST to resolved [`Job`]s (reporting every user error as a
//! diagnostic), and a job's model to a forward graph of IR primitives.

mod check;
mod data;
mod forward;
mod job;
mod objective;
mod settings;

pub use check::{Checked, check};
pub use forward::{Forward, lower_forward};
pub use job::{Activation, Init, Job, Layer, Loss, Model, Schedule, TrainConfig};
pub use objective::Minimization;
